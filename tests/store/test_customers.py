"""The profile store (customers, provisional callers, merges, timeline, cases, hint feedback) on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from profiles.errors import (
    CallInteractionExistsError,
    ExternalIdTakenError,
    InvalidFieldError,
    MergeError,
    NotFoundError,
)
from profiles.records import InteractionDraft
from store.customers import MergedCustomerError
from store.records import PhoneTakenError, TemplateRecord
from store.schema import AuditEntry, Call
from store.schema import base as schema_base
from store.store import Store

pytest_plugins = ["tests.support.databases"]  # any_store, sqlite_store (SQLite / PostgreSQL)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def chat(store: Store, customer_id: str, minutes: int, **fields) -> str:
    draft = InteractionDraft(customer_id, fields.pop("channel", "chat"), started_at=T0 + timedelta(minutes=minutes),
                             **fields)
    return store.timeline.add_interaction(draft).id


# -- customers -------------------------------------------------------------------------------------------------


def test_create_get_patch_customer(any_store):
    store = any_store
    rec = store.customers.create_profile("Olena Shevchenko", ["+380441234567"], email="olena@example.com",
                                        language="uk", segment="premium", flags=["vip"], external_id="crm-1",
                                        cards=[{"last4": "1234", "status": "active", "expires": "2027-03-31"}])
    got = store.customers.get(rec.id)
    assert got == rec
    assert (got.phones, got.flags, got.external_id, got.provisional, got.merged_into) == (
        ["+380441234567"], ["vip"], "crm-1", False, None)
    assert got.cards == [{"last4": "1234", "status": "active", "expires": "2027-03-31"}]
    assert got.created_at.tzinfo is not None
    patched = store.customers.patch(rec.id, {"phones": ["+380441234568", "+380441234567"],
                                            "flags": ["vip", "card_blocked"], "email": None,
                                            "documents": [{"kind": "passport", "status": "expired"}]})
    assert patched.phones == ["+380441234567", "+380441234568"]
    assert (patched.flags, patched.email) == (["vip", "card_blocked"], None)
    assert patched.documents == [{"kind": "passport", "status": "expired"}]
    assert patched.updated_at is not None and patched.updated_at >= rec.updated_at
    assert store.customers.patch(rec.id, {"phones": ["+380441234568"]}).phones == ["+380441234568"]
    assert store.customers.by_phone("+380441234567") is None  # the dropped number is free again
    # The minimal functions the voiceprint code uses still work and see the profile.
    cid = store.customers.create("Minimal", ["+380441110000"])
    minimal = store.customers.by_phone("+380441110000")
    assert minimal is not None and minimal.id == cid and minimal.flags == [] and not minimal.provisional


def test_conflicts_carry_their_data(any_store):
    store = any_store
    a = store.customers.create_profile("A", ["+380441000001"], external_id="crm-a")
    b = store.customers.create_profile("B", ["+380441000002"])
    with pytest.raises(PhoneTakenError) as phone_err:
        store.customers.patch(b.id, {"phones": ["+380441000001"]})
    assert (phone_err.value.phone, phone_err.value.customer_id) == ("+380441000001", a.id)
    with pytest.raises(ExternalIdTakenError) as ext_err:
        store.customers.patch(b.id, {"external_id": "crm-a"})
    assert (ext_err.value.external_id, ext_err.value.customer_id) == ("crm-a", a.id)
    with pytest.raises(ExternalIdTakenError):
        store.customers.create_profile("C", external_id="crm-a")
    assert store.customers.get(b.id).phones == ["+380441000002"]  # nothing half-applied
    with pytest.raises(InvalidFieldError) as bad:
        store.customers.patch(b.id, {"colour": "red"})
    assert bad.value.field == "colour" and "name" in bad.value.allowed
    with pytest.raises(InvalidFieldError):
        store.customers.create_profile("D", ["0441234567"])  # the store only takes E.164
    with pytest.raises(NotFoundError) as missing:
        store.customers.patch("nope", {"name": "x"})
    assert (missing.value.kind, missing.value.id) == ("customer", "nope")


def test_lookup_by_external_id_and_search(any_store):
    store = any_store
    olena = store.customers.create_profile("Olena Shevchenko", ["+380441234567"], email="olena@bank.example",
                                          external_id="crm-7")
    ivan = store.customers.create_profile("Ivan 100% Petrenko", ["+380501112233"])
    assert store.customers.by_external_id("crm-7").id == olena.id
    assert store.customers.by_external_id("crm-8") is None

    def ids(q):
        return {c.id for c in store.customers.search(q)[1]}

    assert ids("shevch") == {olena.id}  # case-insensitive part of the name
    assert ids("BANK.example") == {olena.id}
    assert ids("crm-7") == {olena.id}
    assert ids("5011122") == {ivan.id}  # part of a number
    assert ids("100%") == {ivan.id}  # LIKE wildcards are taken literally
    assert ids("%") == {ivan.id}
    assert ids(None) == {olena.id, ivan.id}
    total, page = store.customers.search(limit=1)
    assert total == 2 and len(page) == 1 and page[0].id == ivan.id  # newest first


def test_provisional_customer_for_unknown_caller(any_store):
    store = any_store
    first = store.customers.ensure_for_phone("+380449990000")
    assert first.provisional and first.phones == ["+380449990000"]
    assert store.customers.ensure_for_phone("+380449990000").id == first.id  # keyed by the number
    known = store.customers.create_profile("Known", ["+380449990001"])
    assert store.customers.ensure_for_phone("+380449990001").id == known.id
    with pytest.raises(InvalidFieldError) as err:
        store.customers.ensure_for_phone("anonymous")
    assert err.value.field == "phone"


# -- timeline ---------------------------------------------------------------------------------------------------


def test_timeline_newest_first_paged_and_filtered(any_store):
    store = any_store
    c = store.customers.create_profile("C", [])
    ids = [chat(store, c.id, m, channel=ch) for m, ch in ((0, "chat"), (10, "email"), (5, "branch"), (20, "chat"))]
    total, rows = store.timeline.page(c.id)
    assert total == 4
    assert [r.id for r in rows] == [ids[3], ids[1], ids[2], ids[0]]
    assert [r.id for r in store.timeline.page(c.id, limit=2, offset=2)[1]] == [ids[2], ids[0]]
    total, chats = store.timeline.page(c.id, channel="chat")
    assert total == 2 and {r.channel for r in chats} == {"chat"}
    with pytest.raises(NotFoundError):
        store.timeline.page("nope")


def test_interaction_checks(any_store):
    store = any_store
    c = store.customers.create_profile("C", [])
    with pytest.raises(InvalidFieldError) as err:
        store.timeline.add_interaction(InteractionDraft(c.id, "fax"))
    assert err.value.field == "channel" and "voice" in err.value.allowed
    with pytest.raises(InvalidFieldError):
        store.timeline.add_interaction(InteractionDraft(c.id, "chat", csi=6))
    with pytest.raises(NotFoundError):
        store.timeline.add_interaction(InteractionDraft("nope", "chat"))
    first = store.timeline.add_interaction(InteractionDraft(c.id, "voice", call_id="call-1"))
    with pytest.raises(CallInteractionExistsError) as dup:
        store.timeline.add_interaction(InteractionDraft(c.id, "voice", call_id="call-1"))
    assert (dup.value.call_id, dup.value.interaction_id) == ("call-1", first.id)
    assert store.timeline.page(c.id)[0] == 1


def test_update_interaction_bumps_version_only_on_change(any_store):
    store = any_store
    c = store.customers.create_profile("C", [])
    rec = store.timeline.add_interaction(InteractionDraft(c.id, "chat", reason="card blocked"))
    assert rec.version == 1
    wrapped = store.timeline.update_interaction(rec.id, {"outcome": "resolved", "csi": 5, "tags": ["cards"],
                                                         "handle_s": 42.5})
    assert (wrapped.version, wrapped.outcome, wrapped.csi, wrapped.tags, wrapped.handle_s) == (
        2, "resolved", 5, ["cards"], 42.5)
    same = store.timeline.update_interaction(rec.id, {"outcome": "resolved"})
    assert same.version == 2
    with pytest.raises(InvalidFieldError):
        store.timeline.update_interaction(rec.id, {"channel": "email"})  # fixed at creation
    with pytest.raises(NotFoundError):
        store.timeline.update_interaction("nope", {"outcome": "x"})


def test_voice_interaction_from_the_call_row(any_store):
    store = any_store
    store.calls.create("call-9", "sip-9", "+380449990009", None, "+380440000001", "uk")
    answered = T0 + timedelta(seconds=3)
    store.calls.update("call-9", started_at=T0, answered_at=answered, agent_id="agent-7", wait_s=12.5,
                      agent_connected_at=answered + timedelta(seconds=12.5), reason="lost card",
                      verification={"decision": "verified", "score": 3.1})
    rec = store.timeline.record_voice_interaction("call-9")
    caller = store.customers.by_phone("+380449990009")
    assert caller is not None and caller.provisional  # unknown caller: a provisional customer keyed by the number
    assert (rec.customer_id, rec.channel, rec.call_id, rec.started_at) == (caller.id, "voice", "call-9", T0)
    assert rec.transcript_ref == "/api/v1/calls/call-9/transcript"
    assert (rec.agent_id, rec.wait_s, rec.reason, rec.handle_s) == ("agent-7", 12.5, "lost card", None)
    assert rec.verification == {"decision": "verified", "score": 3.1}
    # An agent edits the reason; hang-up then fills only what is still empty (handle time).
    store.timeline.update_interaction(rec.id, {"reason": "stolen card"})
    store.calls.update("call-9", ended_at=answered + timedelta(seconds=72.5))
    ended = store.timeline.record_voice_interaction("call-9")
    assert (ended.id, ended.reason, ended.handle_s) == (rec.id, "stolen card", 60.0)
    wrapped = store.timeline.record_voice_interaction("call-9", {"outcome": "card reissued", "csi": 4})
    assert (wrapped.outcome, wrapped.csi, wrapped.version) == ("card reissued", 4, ended.version + 1)
    assert store.timeline.interaction_for_call("call-9") == wrapped
    with pytest.raises(NotFoundError) as err:
        store.timeline.record_voice_interaction("no-call")
    assert err.value.kind == "call"


def test_voice_interaction_of_a_withheld_number_has_no_customer_until_claimed(any_store):
    store = any_store
    store.calls.create("call-anon", "sip-a", None, None, None, "uk")
    rec = store.timeline.record_voice_interaction("call-anon")
    assert rec.customer_id is None
    known = store.customers.create_profile("Known", [])
    claimed = store.timeline.record_voice_interaction("call-anon", {"customer_id": known.id})
    assert claimed.customer_id == known.id
    assert [r.id for r in store.timeline.page(known.id)[1]] == [rec.id]


# -- merge ------------------------------------------------------------------------------------------------------


def _enrol(store: Store, customer_id: str, cipher) -> np.ndarray:
    from biometrics.voiceprint import ModelTag, Voiceprint

    vector = np.random.default_rng(7).standard_normal(256).astype(np.float32)
    tag = ModelTag("resemblyzer-ge2e", "test-1")
    store.voiceprints.save(TemplateRecord(customer_id, tag.model_id, tag.version, cipher.key_id, 9.5, T0, "sec#1",
                                         {"given_by": "customer"}, ["file:a.wav"],
                                         cipher.seal(Voiceprint(vector, tag), customer_id)))
    return vector


def _resealer(cipher):
    from biometrics.voiceprint import ModelTag

    def reseal(rec: TemplateRecord, to_id: str) -> bytes:
        return cipher.seal(cipher.open(rec.template, rec.customer_id, ModelTag(rec.model_id, rec.model_version)), to_id)

    return reseal


def test_merge_provisional_into_real(any_store):
    from biometrics.crypto import TemplateCipher
    from biometrics.errors import TemplateIntegrityError
    from biometrics.voiceprint import ModelTag

    store = any_store
    cipher = TemplateCipher(bytes(range(32)))
    real = store.customers.create_profile("Real", ["+380441230000"], flags=["vip"])
    prov = store.customers.ensure_for_phone("+380449870000")
    store.customers.patch(prov.id, {"flags": ["fraud_watch"], "email": "p@example.com", "external_id": "crm-p"})
    vector = _enrol(store, prov.id, cipher)
    store.calls.create("call-m", "sip-m", "+380449870000", None, None, "uk")
    store.calls.set_customer("call-m", prov.id)
    voice = store.timeline.record_voice_interaction("call-m")
    note = chat(store, prov.id, 1)
    case = store.timeline.create_case(prov.id, "Dispute")

    result = store.customers.merge(prov.id, real.id, _resealer(cipher), actor="crm#3", role="integration")
    assert (result.phones, result.interactions, result.cases, result.calls, result.voiceprint) == (
        ["+380449870000"], 2, 1, 1, "moved")
    target = store.customers.get(real.id)
    assert target.phones == ["+380441230000", "+380449870000"]
    assert (target.flags, target.email, target.external_id) == (["vip", "fraud_watch"], "p@example.com", "crm-p")
    source = store.customers.get(prov.id)
    assert (source.merged_into, source.phones, source.external_id) == (real.id, [], None)
    assert store.customers.by_phone("+380449870000").id == real.id
    assert {r.id for r in store.timeline.page(real.id)[1]} == {voice.id, note}
    assert [c.id for c in store.timeline.list_cases(real.id)] == [case.id]
    assert store.calls.get("call-m").customer_id == real.id
    # The template was re-sealed for the target: it opens there, and the old blob would not.
    moved = store.voiceprints.get(real.id, with_template=True)
    tag = ModelTag(moved.model_id, moved.model_version)
    assert np.allclose(cipher.open(moved.template, real.id, tag).vector, vector)
    with pytest.raises(TemplateIntegrityError):
        cipher.open(moved.template, prov.id, tag)
    assert store.voiceprints.get(prov.id) is None
    assert "merged:" + prov.id in moved.sources
    # A merged id still leads to the target for reads and new interactions, but not for profile changes.
    assert store.timeline.page(prov.id)[0] == 2
    late = store.timeline.add_interaction(InteractionDraft(prov.id, "email"))
    assert late.customer_id == real.id
    with pytest.raises(MergedCustomerError) as err:
        store.customers.patch(prov.id, {"name": "x"})
    assert err.value.merged_into == real.id
    with store.sessions() as s:
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "merge")).one()
    assert (audit.actor, audit.customer_id, audit.detail["source_id"]) == ("crm#3", real.id, prov.id)
    assert store.customers.search()[0] == 1  # merged customers are not listed


def test_merge_keeps_the_targets_voiceprint_and_refuses_bad_merges(any_store):
    from biometrics.crypto import TemplateCipher

    store = any_store
    cipher = TemplateCipher(bytes(range(32)))
    a = store.customers.create_profile("A", [], external_id="crm-a")
    b = store.customers.create_profile("B", [], external_id="crm-b")
    c = store.customers.create_profile("C", [])
    _enrol(store, a.id, cipher)
    _enrol(store, c.id, cipher)
    with pytest.raises(MergeError) as both:
        store.customers.merge(a.id, b.id)
    assert (both.value.source_id, both.value.target_id) == (a.id, b.id) and "CRM" in both.value.reason
    with pytest.raises(MergeError):
        store.customers.merge(a.id, a.id)
    with pytest.raises(NotFoundError):
        store.customers.merge(a.id, "nope")
    assert store.customers.merge(c.id, a.id, _resealer(cipher)).voiceprint == "target_has_one"
    assert store.voiceprints.get(c.id) is not None  # stays with the merged record
    with pytest.raises(MergeError) as again:
        store.customers.merge(c.id, b.id)
    assert "already merged" in again.value.reason
    d = store.customers.create_profile("D", [])
    e = store.customers.create_profile("E", [])
    _enrol(store, d.id, cipher)
    assert store.customers.merge(d.id, e.id).voiceprint.startswith("not_moved")  # no key to re-seal with
    assert store.voiceprints.get(e.id) is None and store.voiceprints.get(d.id) is not None


# -- cases and hint feedback ------------------------------------------------------------------------------------


def test_cases(any_store):
    store = any_store
    c = store.customers.create_profile("C", [])
    first = store.timeline.create_case(c.id, "Card dispute")
    second = store.timeline.create_case(c.id, "Address change")
    closed = store.timeline.patch_case(first.id, {"status": "closed"})
    assert (closed.status, closed.version, closed.title) == ("closed", 2, "Card dispute")
    assert [x.id for x in store.timeline.list_cases(c.id)] in ([second.id, first.id], [first.id, second.id])
    assert [x.id for x in store.timeline.list_cases(c.id, "open")] == [second.id]
    with pytest.raises(InvalidFieldError) as err:
        store.timeline.patch_case(first.id, {"status": "pending"})
    assert err.value.allowed == ("open", "closed")
    with pytest.raises(InvalidFieldError):
        store.timeline.create_case(c.id, "  ")
    with pytest.raises(NotFoundError):
        store.timeline.patch_case("nope", {"status": "closed"})
    with pytest.raises(NotFoundError):
        store.timeline.create_case("nope", "x")


def test_hint_feedback(any_store):
    store = any_store
    store.calls.create("call-h", "sip-h", None, None, None, "uk")
    store.timeline.add_hint_feedback("call-h", "kb:card-block", True, "agent#1")
    store.timeline.add_hint_feedback("call-h", "rule:expiring-card", False, "agent#1")
    got = store.timeline.hint_feedback("call-h")
    assert [(f.hint_id, f.useful) for f in got] == [("rule:expiring-card", False), ("kb:card-block", True)]
    assert [f.hint_id for f in store.timeline.hint_feedback(hint_id="kb:card-block")] == ["kb:card-block"]
    with pytest.raises(NotFoundError) as err:
        store.timeline.add_hint_feedback("nope", "h", True)
    assert err.value.kind == "call"
    with store.sessions() as s:
        assert s.get(Call, "call-h") is not None


def test_migration_keeps_existing_customers(sqlite_store):
    """Revision 0004 down and up again on SQLite: customers, their phones and voiceprints survive (a table
    copy would cascade-delete them) and read back with the profile defaults."""
    from alembic import command
    from alembic.config import Config

    from biometrics.crypto import TemplateCipher

    store = sqlite_store
    cid = store.customers.create("Before", ["+380441112233"])
    _enrol(store, cid, TemplateCipher(bytes(range(32))))
    cfg = Config()
    cfg.set_main_option("script_location", str(Path(schema_base.__file__).parent.parent / "migrations"))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    rec = store.customers.get(cid)
    assert (rec.name, rec.phones, rec.flags, rec.provisional, rec.external_id) == (
        "Before", ["+380441112233"], [], False, None)
    assert store.voiceprints.get(cid) is not None
