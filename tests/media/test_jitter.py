from media.jitter import JitterBuffer, JitterStats
from media.rtp import RtpPacket


def pkt(seq: int, ssrc: int = 1) -> RtpPacket:
    return RtpPacket(0, seq & 0xFFFF, seq * 160, ssrc, seq.to_bytes(4, "big", signed=True))


def seqs(out):
    return [None if p is None else p.sequence for p in out]


def feed(jb: JitterBuffer, order, ssrc: int = 1):
    out = []
    for s in order:
        out += jb.push(pkt(s, ssrc))
    return out


def test_in_order_passthrough_is_immediate():
    jb = JitterBuffer(depth=3)
    for s in range(10, 20):
        assert seqs(jb.push(pkt(s))) == [s]
    assert jb.stats == JitterStats(received=10)


def test_reorder_1_3_2():
    jb = JitterBuffer(depth=3)
    assert seqs(jb.push(pkt(1))) == [1]
    assert seqs(jb.push(pkt(3))) == []
    assert seqs(jb.push(pkt(2))) == [2, 3]
    assert jb.stats.lost == 0 and jb.stats.late == 0


def test_heavier_reordering_within_depth():
    jb = JitterBuffer(depth=3)
    out = feed(jb, [0, 3, 2, 4, 1, 5, 7, 6])
    assert seqs(out) == list(range(8))
    assert jb.stats.lost == 0


def test_lost_packet_reported_after_depth_plus_one_later_packets():
    jb = JitterBuffer(depth=3)
    assert seqs(feed(jb, [1, 3, 4, 5])) == [1]  # 3 packets held: still waiting for 2
    assert seqs(jb.push(pkt(6))) == [None, 3, 4, 5, 6]
    assert jb.stats.lost == 1


def test_lost_packet_with_depth_one():
    jb = JitterBuffer(depth=1)
    assert seqs(feed(jb, [1, 3])) == [1]
    assert seqs(jb.push(pkt(4))) == [None, 3, 4]


def test_depth_zero_never_waits():
    jb = JitterBuffer(depth=0)
    assert seqs(feed(jb, [1, 3])) == [1, None, 3]
    assert jb.stats.lost == 1


def test_burst_loss_reports_each_missing_packet():
    jb = JitterBuffer(depth=2)
    out = feed(jb, [1, 5, 6, 7])
    assert seqs(out) == [1, None, None, None, 5, 6, 7]
    assert jb.stats.lost == 3


def test_late_packet_is_dropped_and_counted():
    jb = JitterBuffer(depth=3)
    out = feed(jb, [1, 3, 4, 5, 6])
    assert seqs(out) == [1, None, 3, 4, 5, 6]
    assert jb.push(pkt(2)) == []
    assert jb.stats.late == 1
    assert seqs(jb.push(pkt(7))) == [7]


def test_duplicate_of_held_packet_counted():
    jb = JitterBuffer(depth=3)
    out = feed(jb, [1, 3, 3, 2])
    assert seqs(out) == [1, 2, 3]
    assert jb.stats.duplicate == 1
    assert jb.stats.received == 4


def test_duplicate_of_released_packet_not_emitted_twice():
    jb = JitterBuffer(depth=3)
    out = feed(jb, [1, 2, 2, 3])
    assert seqs(out) == [1, 2, 3]
    # an already released packet counts as late (the buffer keeps no history)
    assert jb.stats.late + jb.stats.duplicate == 1


def test_sequence_wraparound_in_order():
    jb = JitterBuffer(depth=3)
    out = feed(jb, [65534, 65535, 65536, 65537])
    assert seqs(out) == [65534, 65535, 0, 1]
    assert jb.stats.resyncs == 0 and jb.stats.late == 0


def test_sequence_wraparound_reordered_and_lost():
    jb = JitterBuffer(depth=2)
    out = feed(jb, [65534, 65536, 65535, 65538, 65539, 65540])
    assert seqs(out) == [65534, 65535, 0, None, 2, 3, 4]
    assert jb.stats.lost == 1


def test_ssrc_change_flushes_old_stream():
    jb = JitterBuffer(depth=3)
    assert seqs(feed(jb, [10, 12], ssrc=1)) == [10]
    out = jb.push(pkt(5000, ssrc=2))
    assert seqs(out) == [None, 12, 5000]
    assert out[1].ssrc == 1 and out[2].ssrc == 2
    assert seqs(jb.push(pkt(5001, ssrc=2))) == [5001]
    # old SSRC's packets now count as a new stream switch, not as late
    assert jb.stats.late == 0


def test_big_forward_jump_resyncs():
    jb = JitterBuffer(depth=3)
    feed(jb, [1, 2])
    assert seqs(jb.push(pkt(1000))) == [1000]
    assert jb.stats.resyncs == 1
    assert jb.stats.lost == 0
    assert seqs(jb.push(pkt(1001))) == [1001]


def test_big_backward_jump_resyncs():
    jb = JitterBuffer(depth=3)
    feed(jb, [5000, 5001])
    assert seqs(jb.push(pkt(10))) == [10]
    assert jb.stats.resyncs == 1
    assert jb.stats.late == 0


def test_resync_releases_held_packets_first():
    jb = JitterBuffer(depth=3)
    feed(jb, [1, 3])
    assert seqs(jb.push(pkt(3000))) == [None, 3, 3000]


def test_small_backward_jump_is_late_not_resync():
    jb = JitterBuffer(depth=3)
    feed(jb, range(300, 310))
    assert jb.push(pkt(200)) == []
    assert jb.stats.late == 1 and jb.stats.resyncs == 0


def test_flush_returns_holes_as_none():
    jb = JitterBuffer(depth=5)
    assert seqs(feed(jb, [1, 3, 5])) == [1]
    assert seqs(jb.flush()) == [None, 3, None, 5]
    assert jb.stats.lost == 2
    assert jb.flush() == []
    # stream continues after a flush
    assert seqs(jb.push(pkt(6))) == [6]


def test_flush_empty_buffer():
    jb = JitterBuffer()
    assert jb.flush() == []
    feed(jb, [1, 2])
    assert jb.flush() == []


def test_packets_are_returned_unchanged():
    jb = JitterBuffer()
    p = pkt(42)
    assert jb.push(p)[0] is p


def test_stats_are_per_buffer():
    a, b = JitterBuffer(), JitterBuffer()
    a.push(pkt(1))
    assert b.stats.received == 0
