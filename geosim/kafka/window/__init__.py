"""The window engine (issue 14): a Kafka cluster's steady-state data path as arrays.

Between two disturbances the data path of a Kafka cluster follows fixed rules: each
fleet sends each leader zone a produce request per send tick, the leaders append what
arrives, each fetch pair cycles (request, long poll until the next append or
``replica.fetch.wait.max.ms``, response), the high watermark passes a row once every
ISR follower's next fetch shows it has it, the producer hears the ack a hop later, and
a consumer zone sees the row a hop after its serving replica may serve it. The event
engine runs each of these as Python calls per row; this package computes a whole
window of them at once, with one Python step per fetch cycle and array operations for
everything per row (docs/architecture.md, "The window engine"):

- :mod:`~geosim.kafka.window.wiring`: what a window reads of a running cluster, and
  what it refuses;
- :mod:`~geosim.kafka.window.sends`: the producers' cuts and requests (stages 1-2);
- :mod:`~geosim.kafka.window.cycles`: one fetch pair's cycles (stage 3);
- :mod:`~geosim.kafka.window.kernel`: commits and acknowledgements (stages 4-5), and
  :func:`~geosim.kafka.window.kernel.run_window`, which runs every stage;
- :mod:`~geosim.kafka.window.reads`: the consumer zones' deliveries (stage 6);
- :mod:`~geosim.kafka.window.mode`: the run mode (``simulation.engine: window``), which
  hands the kernel the data path between disturbances and takes it back;
- :mod:`~geosim.kafka.window.mirror`: a replication flow and its target's data path over
  a source window's rows, and :mod:`~geosim.kafka.window.flow_mode`, the run mode of a
  cross-cluster run of one flow.

The kernels are held to the event engine in distribution (``tests/test_window_kernel.py``,
``tests/test_window_mirror.py``), the run modes to runs in events
(``tests/test_window_mode.py``).
"""
