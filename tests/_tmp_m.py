import sys, time
sys.path.insert(0, "/work/wt-kprops/tests")
import test_claims_kafka as t
from geosim.testing import search, no_acked_loss, region_faults
def test_m(tmp_path):
    cases = {
     "two-region": (no_acked_loss(), t.lean(t.TWO_REGIONS, t.BROWNOUT_THEN_DESTRUCTION, duration=(60,60))),
     "majority": (t.WRITES, t.lean(t.MAJORITY_IN_ONE, region_faults(["region-outage"], duration=(5,30)), regions=2, duration=(40,40))),
     "acks1": (no_acked_loss(), t.lean(t.ACKS_1, region_faults(["region-destruction"]))),
    }
    for name,(c,s) in cases.items():
        r = search(c, s, directory=str(tmp_path), quiet=True)
        cx = r.counterexample
        print(name, f"found after {cx.examples_to_find} examples, {cx.seconds_to_find:.1f}s; total {cx.seconds_total:.1f}s", cx.violation.reason, cx.data["faults"])
