"""SA loss beside the QM lifetime (L-5; timers-failures L1-L13): the DELETE (``ike.delete``) and
the MM SA's own expiry (``ike.mm_expiry``)."""

from __future__ import annotations

import dataclasses

from ndcheck import CATALOG, build_system, explore
from ndcheck.checking.coverage import coverage
from ndcheck.model.ir import fields_of


def test_a_delete_is_sent_between_negotiations_and_removes_the_senders_sas():
    system = build_system(CATALOG["qm-delete-rekey"])
    sends = [c for c in system.commands if c.name.startswith("client.ike.delete")]
    assert sends and all(c.wire[0].message == "DELETE" for c in sends)
    for c in sends:
        ups = dict(c.updates)
        assert repr(ups["client.sa_in"]) == repr(ups["client.sa_out"]) == "0"
        assert repr(ups["sad.deleted"]) == "1"
        # No IKE machine of either host may be in the middle of a negotiation.
        assert {"server.ike_r", "client.ike_i", "sad.deleted", "client.mm_sa"} <= fields_of(c.guard)


def test_the_peer_removes_its_sas_and_leaves_qm_done_on_receipt():
    system = build_system(CATALOG["qm-delete-rekey"])
    recvs = [c for c in system.commands if c.name.startswith("server.ike.recv_delete")]
    assert recvs
    for c in recvs:
        ups = dict(c.updates)
        assert repr(ups["server.sa_in"]) == repr(ups["server.sa_out"]) == "0"
    assert {e for c in recvs for e in c.events} == {("server.ike_r", "sa_expire", "established")}


def test_a_quick_mode_starts_only_after_the_delete_arrived():
    """The re-keying QM #5 leaves after the DELETE on one socket; the model keeps a Quick Mode that
    starts while a DELETE is on its way behind it (a bit per direction cannot tell SPIs apart)."""
    system = build_system(CATALOG["qm-delete-rekey"])
    starts = [c for c in system.commands
              if any(ev in ("acquire_qm", "recv_mm6") or (ev == "recv_qm1" and src == "mm_done")
                     for _, ev, src in c.events)]
    assert starts
    for c in starts:
        assert {"net.c2s.DELETE", "net.s2c.DELETE"} <= fields_of(c.guard), c.name


def test_a_new_main_mode_after_the_mm_sa_expired_exercises_both_roles():
    """The transitions mm-expiry-rekey leaves out (its server starts no negotiation, and no
    flow there renegotiates with its QM SAs installed): the server's own Main Mode after the
    MM SA expired, and the GE renegotiation (ND-12) of a client that still holds its QM SAs."""
    base = CATALOG["mm-expiry-rekey"]
    sc = dataclasses.replace(
        base, ike=dataclasses.replace(base.ike, server_initiator=True),
        tcp=dataclasses.replace(base.tcp, data_segments=1, server_segments=0, close="none"),
        client=dataclasses.replace(base.client, guaranteed_encryption=True))
    g = explore(build_system(sc))
    assert not g.truncated
    assert {("client.ike_i", "acquire_mm", "established"), ("server.ike_i", "acquire_mm", "established"),
            ("server.ike_i", "acquire_mm", "expired"), ("client.ike_r", "recv_mm1", "established"),
            ("client.ike_r", "recv_mm1", "mm_done"), ("server.ike_r", "recv_mm1", "established")} \
        <= coverage(g).transitions_exercised

