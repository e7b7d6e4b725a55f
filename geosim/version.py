"""The version of geosim, recorded in every summary and sweep table.

A module of its own so that the runner and the metrics can read it without importing
the ``geosim`` package's lazy entry points (which import the runner).
"""

__version__ = "0.1.0"

#: Bumped with every change that moves results (a fix named in CHANGELOG that changes
#: golden summaries), while ``__version__`` stays: a sweep or advise store reuses a
#: stored run only when both match (``RunStore.finished``), so a resumed sweep never
#: mixes runs of two models. 2: producer fleets out of phase, diskless writers' reads;
#: 3: the TCP window bound charges a round trip per window beyond the first; 4: a
#: quantile split exactly between two modes takes the lower (the same on every CPU);
#: 5: a partition whose every replica is destroyed loses what it had forgotten too;
#: 6: kept-names failovers count the target's own records by the reverse flow's image;
#: 7: a blocked object-store reader wakes when a copy lands in any region it reaches,
#: and a copy in flight at a replication pause is not made before the resume; 8: a
#: leader elected from the ELR becomes the ISR, which empties the ELR at min ISR; a
#: mirror fetch answered after its task restarted is lost with the old task; a Cluster
#: Linking partition whose source diverged is fetched no more; a max-rate run's last
#: whole bin is counted whatever the bin width's binary rounding, and every series
#: bins a time by one rule; 9: a diskless commit that lands after its broker crashed
#: counts the rows its log refused in ``rows_rejected_out_of_order``; 10: an edge
#: site's records expire by their produce time across pauses of production, and
#: retention deletes an expired active segment (and any with ``retention.bytes`` 0);
#: a first fetch over a link with no round trip and less capacity than production is
#: not taken for caught up; 11: the HW stops under min.insync.replicas without ELR too,
#: one ISR shrink makes every replica it removes eligible, and the controller fences
#: and elects by heartbeats only (a destroyed broker after its session, any unfenced
#: replica as leader); consumers commit before giving partitions up, a restarted consumer
#: is a new member, and a rebalance waits for every silent member's session; MirrorMaker
#: 2 translates through Kafka's sparse offset sync store; producers hold a partition whose
#: leader moved through a leaderless spell, retry in sequence order and bump epochs per
#: partition; a broker restarted within its session registers once it has expired, and
#: a clean stop is a controlled shutdown.
#: 12: the Kafka family's messages draw their delays and losses by message family
#: (a fleet's produce requests to a zone, its acknowledgements, a zone pair's replica
#: fetches and responses, a partition's deliveries to a zone, a broker's heartbeats, a
#: mirror flow's fetches and copies), each family from its own stream per direction,
#: instead of one stream per zone pair shared by all in the order they were sent.
#: 13: consumer groups rebalance in the protocol their assignors decide, by default
#: Kafka's eager one: every member gives all its partitions up from its next
#: heartbeat until the assignment, so a consumer restarted within its old session
#: stops the whole group until that session expires. A cluster's offset commits are a
#: message family of their own.
#: 14: a Kafka cluster's consumer groups commit to their coordinator, the leader of
#: their ``__consumer_offsets`` partition (before: the first live broker); a group
#: loses it with its broker, and the successor the controller elects (in a
#: shared-storage cluster, where the WAL recovery reopens the broker's partitions)
#: loads the last generation and restarts the group's sessions; a rebalance under way
#: is lost with the old coordinator.
#: 15: a Kafka cluster's controller moves leaderships back to their preferred replicas
#: (``auto.leader.rebalance.enable``, on by default): one pass
#: ``leader.imbalance.check.interval.seconds`` (300 s) after the controller write that
#: left a partition off its preferred replica, and every interval while one still is
#: (seed 000's stretch cluster: at 547.5 s, after us-west2's outage of 240-420 s). A
#: classic consumer group member's session expires ``session.timeout.ms`` after its
#: last heartbeat (before: that plus ``heartbeat.interval.ms`` after its death). A
#: follower's long poll ends at an append to one of its own partitions, not at any
#: append of the leader's zone.
#: 16: a latency sample's phase is its record's send time, record by record: a row
#: whose send window crosses a phase bound (records a producer held from before a
#: fault into it, or a window across the warmup's end) is cut there, and each phase
#: gets the records sent in it (before: the whole row went to the phase of its first
#: record, so the "before" p99 of the five-strategy comparison's observers variant
#: read 29.5 s). A region's first success after a fault may be a row whose last
#: records were sent at or after its start. Producers failed over to another cluster
#: while their zone is down start when it comes back (before: they offered records
#: from the failover on, counted as offered and accepted but never sent, which with a
#: long enough outage filled their buffer and stopped them for the rest of the run:
#: mm2-active-passive's us-west1 producers after us-west1's return). The edge
#: strategy's losses to retention and to site failures are in the run's ``loss``
#: (before: 0 there, only in the ``edge`` section). Between clusters, a cluster
#: unreachable as a whole has its partitions offline, and a record stays readable
#: while a reachable cluster holds an acknowledged copy of it (before: the five-strategy
#: comparison's MirrorMaker 2 variant read 159,900 records unavailable for 500 ms, its
#: brokers' restart, and nothing for the 60 s its cluster was out); an offline episode
#: of a partition holding no acknowledged record has no interval. A classic consumer
#: group member's offset commits keep its session as its heartbeats do, and both are
#: heard a one-way trip after they are sent (before: its session ran from its last
#: heartbeat as sent).
#: 17: a producer's cut takes a record whose intended time is the cut's, where the
#: load curve's float sums left its due count a hair (under 1e-4 of a record) short of
#: it (before: at rates where records fall on send ticks, float noise decided whether
#: that record waited a tick, moving stretch-last-replica's publish median between
#: 4.47 and 4.97 ms for seconds at a time; found by the window engine's equivalence
#: tests).
#: 18: a consumer zone's bytes from a replica count each record once per reader: a
#: readable change that overtakes one still on its way carries only what the earlier
#: did not (before: each carried everything past what had arrived, so where the hop is
#: longer than the time between high-watermark advances the bytes were counted several
#: times: mm2-active-passive's cross-region consume bytes read 2.2 times the data its
#: us-central1 consumers read from us-west1; found by the window engine, which counts
#: them once).
#: 19: with fetch-from-follower a consumer reads from a replica of its rack only while
#: that replica is in the ISR (KAFKA-14372), else from the leader (before: from any live
#: replica of its rack, so a region back from an outage read from its lagging followers:
#: seed 000's us-west2 end-to-end p90 after the outage read 2.4 minutes). A follower's
#: fetch response that would pass replica.fetch.response.max.bytes is filled in the
#: fetch session's order, the item meeting the budget taking part of a row, and the
#: items that got data move to the session's end (before: an item that would pass the
#: budget was skipped unless first in index order, so a follower whose backlog outgrew
#: it never caught up: the five-strategy comparison's observers variant left four of its
#: six partitions without their us-west1 replica after the outage).
#: 20: in window mode (``simulation.engine: window``) a hand-back moves the consumer
#: groups' positions past the rows each zone has seen by then, and the read path
#: delivers the rest at the kernel's times (before: past every row of the window at
#: once, so an offset commit just after a hand-back was some 44 ms of data ahead, and a
#: rebalance after it re-delivered 1.2% fewer records than the event engine on a
#: 96-partition variant of seed 000). Under fetch-from-follower a follower (or an observer) the
#: controller fences leaves its racks' readers with the leader's high watermark at that
#: commit, as an ISR shrink by AlterPartition does (before: at the leader's next advance, never for
#: a partition no one writes to any more); no golden summary moves. A rewiring of a
#: fetch pair (an election, a broker's return) keeps the fetch session's order of the
#: items whose leader stayed and puts those whose leader moved at its end (before: every
#: item started afresh in index order, and a cut response to a request sent before the
#: rewiring filled in index order): the seed-000 golden case's end-to-end p50 after
#: its outage reads 0.457 s (0.463 before), delivered records +0.13%.
#: 21: in window mode, windows also run while followers catch up out of their ISRs
#: after a fault (their fetch pairs item by item in the fetch session's order, a window
#: handing back before the first would rejoin its ISR; geosim.kafka.window.catchup):
#: seed 000's catch-up after its outage ran in events before. A fetch response past
#: replica.fetch.response.max.bytes no longer keeps a window from running. The event
#: engine's results do not move.
#: 22: a follower fetch response carries at most replica.fetch.response.max.bytes of
#: one partition (a partition is fetched over one broker connection, whose response is
#: that large), besides that times the pair's connections in all. Before, one follower
#: catching up could take a whole cut response (seed 000: 1.2 GB over 121 connections)
#: while the ISR followers of its pair waited for their turn in the session: seed 000's
#: publish p99 after its outage read 2.90 s in events, now 0.118 s; its golden case's
#: end-to-end p50 after its outage 0.667 s (0.457 before). In window mode a hand-over's
#: drain ends the followers' long polls every 10 ms, as the producers' appends it holds
#: back would (before, each drain waited out replica.fetch.wait.max.ms for the HW to
#: reach the followers, and the rows in flight reached the zones reading from followers
#: 0.5 s late: seed 000's end-to-end p99 after its outage read 0.372 s against events'
#: 0.195 s, now 0.197 s), and a window a follower's return to its ISR cut short is
#: followed by RETRY (1 s) in events.
#: 23: a leader sends no AlterPartition for a partition while one is in flight for it
#: (Kafka's partitionState.isInflight), and the HW waits for a follower from the
#: request that adds it (Kafka's maximal ISR). Before, a returning follower's every
#: fetch until the commit completed sent another AlterPartition (the catch-up test's
#: fetch-from-follower variant: 10 commits for 6 returns). In window mode the kernel
#: makes the returns to the ISR beside a catch-up (the commit, the HW waiting for the
#: follower, the reads of its rack moving to it) instead of handing back before each.
RESULTS_REVISION = 23
