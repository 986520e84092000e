# ruff: noqa: RUF001  (Ukrainian and Russian transcripts: Cyrillic letters that look Latin are meant)
"""PII redaction: cards, phones, e-mails and IBANs in written and spoken transcripts, segments, policy and REST."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app.config import Settings, load_settings
from calls.bus import EventBus
from calls.context import AppContext
from core.metrics import Metrics
from media.ports import PortAllocator
from privacy import (
    Kind,
    PrivacySettings,
    RawTranscriptForbidden,
    Span,
    iban_valid,
    luhn_valid,
    redact,
    redact_call,
    redact_event,
    redact_segment,
    redact_transcript,
)
from store.calls import SegmentRecord
from store.store import Store
from tests.support.inproc import serve_in_thread
from tests.support.keys import make_agent, make_key
from tests.support.server import ServerHandle
from web.app import create_app

_DIGIT_WORDS = {
    "uk": ["нуль", "один", "два", "три", "чотири", "п'ять", "шість", "сім", "вісім", "дев'ять"],
    "ru": ["ноль", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять"],
    "en": ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"],
}


def spell(digits: str, language: str) -> str:
    """Digits said one by one, as a caller dictates them."""
    return " ".join(_DIGIT_WORDS[language][int(d)] for d in digits)


def kinds(text: str, language: str | None = None) -> list[str]:
    return [s.kind.value for s in redact(text, language).spans]


# -- checksums ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["4111111111111111", "5555555555554444", "378282246310005", "4222222222222",
                                    "6011111111111117", "4000000000000002"])
def test_luhn_accepts_test_card_numbers(number):
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4111111111111112", "1234567890123456", "", "4111a11111111111"])
def test_luhn_rejects_others(number):
    assert not luhn_valid(number)


@pytest.mark.parametrize("iban, valid", [
    ("UA213223130000026007233566001", True),
    ("ua213223130000026007233566001", True),
    ("DE89370400440532013000", True),
    ("GB82WEST12345698765432", True),
    ("UA213223130000026007233566002", False),  # check digits do not match
    ("UA21322313000002600723356600", False),  # one character short for UA
    ("XX213223130000026007233566001", False),  # no such country
])
def test_iban_check(iban, valid):
    assert iban_valid(iban) is valid


# -- written cards ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("my card is 4111 1111 1111 1111 thanks", "my card is [CARD] thanks"),
    ("card 5555-5555-5555-4444.", "card [CARD]."),
    ("amex 378282246310005 ok", "amex [CARD] ok"),
    ("old visa 4222222222222", "old visa [CARD]"),
    ("4000 0000 0000 0002", "[CARD]"),
])
def test_written_cards_are_redacted(text, expected):
    result = redact(text)
    assert result.text == expected
    assert [s.kind for s in result.spans] == [Kind.CARD]


def test_spans_point_into_the_original_text():
    text = "my card is 4111 1111 1111 1111 thanks"
    assert redact(text).spans == [Span(Kind.CARD, 11, 30)]
    assert text[11:30] == "4111 1111 1111 1111"


@pytest.mark.parametrize("text", [
    "4111 1111 1111 1112",  # one digit off: Luhn-invalid
    "1234 5678 9012 3456",
    "reference 4111111111111112 please",
])
def test_luhn_invalid_digit_runs_are_untouched(text):
    assert redact(text).text == text
    assert redact(text).spans == []


# -- spoken cards -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["uk", "ru", "en"])
@pytest.mark.parametrize("number", ["4111111111111111", "5555555555554444", "378282246310005", "4000000000000002"])
def test_cards_dictated_digit_by_digit(language, number):
    assert redact(spell(number, language), language).text == "[CARD]"
    assert redact(spell(number, language)).text == "[CARD]"  # language unknown: every vocabulary


@pytest.mark.parametrize("language", ["uk", "ru", "en"])
def test_spoken_luhn_invalid_runs_are_untouched(language):
    text = spell("4111111111111112", language)
    assert redact(text, language).text == text


@pytest.mark.parametrize("text, language", [
    ("сорок один одинадцять одинадцять одинадцять одинадцять одинадцять одинадцять одинадцять", "uk"),
    ("сорок один одиннадцать одиннадцать одиннадцать одиннадцать одиннадцать одиннадцать одиннадцать", "ru"),
    ("forty one eleven eleven eleven eleven eleven eleven eleven", "en"),
    ("пятьдесят пять пятьдесят пять сорок четыре сорок четыре тридцать три тридцать три двадцать два двадцать шесть",
     "ru"),
    ("чотири сто двадцять три чотириста п'ятдесят шість сімсот вісімдесят дев'ять нуль один два три сорок дев'ять",
     "uk"),
    ("четыре сто двадцать три четыреста пятьдесят шесть семьсот восемьдесят девять ноль один два три сорок девять",
     "ru"),
    ("four one hundred twenty three four hundred fifty six seven hundred eighty nine zero one two three forty nine",
     "en"),
    ("four oh oh oh oh oh oh oh oh oh oh oh oh oh oh two", "en"),
    ("five five five five double five five five five five five five four four four four", "en"),
])
def test_cards_dictated_in_compounds(text, language):
    assert redact(text, language).text == "[CARD]"


@pytest.mark.parametrize("text", [
    "4 1 1 1 один один один один 1111 one one one one",
    "4111 одинадцять одинадцять 1111 eleven eleven",
    "чотири один 11 один один один один один один один один один один один один",
])
def test_cards_mixing_words_and_digits(text):
    assert redact(text).text == "[CARD]"


def test_spoken_card_inside_a_sentence_keeps_the_words_around_it():
    text = f"так номер картки {spell('4111111111111111', 'uk')} дякую"
    assert redact(text, "uk").text == "так номер картки [CARD] дякую"


def test_hesitation_inside_a_dictated_card():
    text = "чотири один один один ну один один один один е один один один один один один один один"
    assert redact(text, "uk").text == "[CARD]"
    assert redact("чотири один ну", "uk").text == "чотири один ну"  # a trailing hesitation is not taken


def test_apostrophe_variants_are_the_same_word():
    number = spell("5555555555554444", "uk")
    for mark in ("\u2019", "\u02bc"):
        assert redact(number.replace("'", mark), "uk").text == "[CARD]"


def test_card_followed_by_a_phone_in_one_breath():
    text = spell("4111111111111111", "uk") + " " + spell("0671234567", "uk")
    result = redact(text, "uk")
    assert result.text == "[CARD] [PHONE]"


def test_card_then_its_expiry_date_in_one_run():
    assert redact("4111 1111 1111 1111 12 26 cvv 123").text == "[CARD] 12 26 cvv 123"
    spoken = spell("4111111111111111", "en") + " one two two six"
    assert redact(spoken, "en").text == "[CARD] one two two six"


def test_language_selects_the_number_words():
    english = spell("4111111111111111", "en")
    assert redact(english, "uk").text == english  # Ukrainian transcripts never contain English number words
    assert redact(english, "en-US").text == "[CARD]"
    oh = "oh six seven one two three four five six seven"
    assert redact(oh, "ru").text == oh and redact(oh, "en").text == "[PHONE]"


# -- phones ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("call +380 67 123 45 67 now", "call [PHONE] now"),
    ("+380671234567", "[PHONE]"),
    ("+1 415 555 2671", "[PHONE]"),
    ("+44 20 7946 0958", "[PHONE]"),
    ("(044) 123-45-67", "[PHONE]"),
    ("мій номер 067 123 45 67", "мій номер [PHONE]"),
    ("0671234567", "[PHONE]"),
    ("380671234567", "[PHONE]"),
    ("8 916 123 45 67", "[PHONE]"),
])
def test_written_phones(text, expected):
    assert redact(text).text == expected


@pytest.mark.parametrize("text, language", [
    ("нуль шістдесят сім сто двадцять три сорок п'ять шістдесят сім", "uk"),
    ("плюс три вісім нуль шістдесят сім один два три чотири п'ять шість сім", "uk"),
    ("восемь девятьсот шестнадцать сто двадцать три сорок пять шестьдесят семь", "ru"),
    ("плюс семь девятьсот шестнадцать один два три четыре пять шесть семь", "ru"),
    ("oh six seven one two three four five six seven", "en"),
    ("plus three eight oh six seven one two three four five six seven", "en"),
    ("zero sixty seven one twenty three forty five sixty seven", "en"),
])
def test_spoken_phones(text, language):
    assert redact(text, language).text == "[PHONE]"


def test_phone_in_a_sentence():
    text = "мій номер нуль шістдесят сім сто двадцять три сорок п'ять шістдесят сім дякую"
    assert redact(text, "uk").text == "мій номер [PHONE] дякую"


@pytest.mark.parametrize("text", [
    "один два три сорок п'ять шістдесят сім",  # seven digits: a local number, not redacted (documented rule)
    "123 45 67",
    "+380 67",  # too short even for E.164
    "pin one two three four",
])
def test_short_digit_runs_are_not_phones(text):
    assert redact(text).text == text


# -- amounts and dates stay --------------------------------------------------------------------------------


@pytest.mark.parametrize("text, language", [
    ("переказав 1500 гривень 25 05 2024 о 14 30", "uk"),
    ("двісті п'ятдесят тисяч гривень", "uk"),
    ("двадцять п'яте травня дві тисячі двадцять четвертого року", "uk"),
    ("сто двадцать три рубля сорок пять копеек", "ru"),
    ("two thousand five hundred dollars on the twenty first of may twenty twenty four", "en"),
    ("2 500 000 000 гривень", None),
    ("1 250 000 000 000", None),
    ("платіж від 12.05.2024 на 4 999,99 грн", "uk"),
    ("2024-05-12 14:30", None),
    ("2024-05-12 14 30", None),
    ("1 250 000 000 000 гривень", None),
])
def test_amounts_and_dates_are_untouched(text, language):
    assert redact(text, language).text == text


# -- e-mails -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("write to ivan.petrenko@bank.com.ua please", "write to [EMAIL] please"),
    ("mail: o_koval+hotline@ukr.net.", "mail: [EMAIL]."),
    ("пишіть на олена@пошта.укр", "пишіть на [EMAIL]"),
])
def test_written_emails(text, expected):
    assert redact(text).text == expected


@pytest.mark.parametrize("text, language, expected", [
    ("ivan dot petrenko at gmail dot com", "en", "[EMAIL]"),
    ("my email is koval at ukr dot net thanks", "en", "my email is [EMAIL] thanks"),
    ("олена собака укрнет крапка юа", "uk", "[EMAIL]"),
    ("пошта петренко равлик гмейл крапка ком", "uk", "пошта [EMAIL]"),
    ("иван точка петров собака яндекс точка ру", "ru", "[EMAIL]"),
    ("ivan one nine eight five at gmail dot com", "en", "ivan [EMAIL]"),
])
def test_spoken_emails(text, language, expected):
    assert redact(text, language).text == expected


@pytest.mark.parametrize("text, language", [
    ("i am at home right now", "en"),
    ("we met at the office dot", "en"),
    ("see you at nine dot thirty", "en"),  # "thirty" is no top-level domain
    ("собака гавкала всю ніч", "uk"),
    ("це крапка і все", "uk"),
])
def test_words_like_at_and_dot_alone_are_not_emails(text, language):
    assert Kind.EMAIL.value not in kinds(text, language)


def test_numbers_inside_an_email_are_part_of_the_email():
    result = redact("ivan four one one one at gmail dot com", "en")
    assert [s.kind for s in result.spans] == [Kind.EMAIL]


# -- IBANs --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("iban UA21 3223 1300 0002 6007 2335 6600 1 ok", "iban [IBAN] ok"),
    ("ua213223130000026007233566001", "[IBAN]"),
    ("DE89 3704 0044 0532 0130 00", "[IBAN]"),
    ("pay GB82 WEST 1234 5698 7654 32.", "pay [IBAN]."),
])
def test_valid_ibans(text, expected):
    assert redact(text).text == expected


@pytest.mark.parametrize("text", [
    "UA21 3223 1300 0002 6007 2335 6600 2",  # wrong check
    "GB82 WEST 1234 5698 7654 33",
    "UA21 3223 1300 0002 6007 2335 6600",  # too short
])
def test_invalid_ibans_are_not_ibans(text):
    assert Kind.IBAN.value not in kinds(text)


@pytest.mark.parametrize("prefix", ["у а", "ю а", "юа", ""])
def test_spoken_ukrainian_iban(prefix):
    digits = ("двадцять один три два два три один три нуль нуль нуль нуль нуль два шість нуль нуль сім два три "
              "три п'ять шість шість нуль нуль один")
    text = f"рахунок {prefix} {digits} дякую".replace("  ", " ")
    assert redact(text, "uk").text == "рахунок [IBAN] дякую"


def test_spoken_iban_with_a_wrong_digit_is_not_an_iban():
    text = spell("21322313000002600723356600" + "2", "uk")
    assert Kind.IBAN.value not in kinds(text, "uk")


# -- kinds, partial hypotheses ------------------------------------------------------------------------------


def test_only_the_asked_kinds_are_redacted():
    text = "card 4111 1111 1111 1111 mail ivan@bank.ua"
    assert redact(text, kinds={Kind.EMAIL}).text == "card 4111 1111 1111 1111 mail [EMAIL]"
    assert redact(text, kinds={Kind.CARD}).text == "card [CARD] mail ivan@bank.ua"
    assert redact(text, kinds=()).text == text


def test_partial_hides_a_number_still_being_dictated():
    text = "my card is four one one one one one one one"
    assert redact(text, "en").text == text  # eight digits: nothing yet in a final
    assert redact(text, "en", pending=True).text == "my card is [NUMBER]"
    six = "my card is four one one one one one"
    assert redact(six, "en", pending=True).text == six  # the first six (the BIN) may show
    done = "four one one one one one one one and that is all"
    assert redact(done, "en", pending=True).text == done  # not at the end: the speaker moved on
    assert redact(text, "en", kinds={Kind.EMAIL, Kind.NUMBER}, pending=True).text == text


def test_many_cards_in_one_run_do_not_exhaust_the_stack():
    result = redact("4111 1111 1111 1111 " * 1500)  # 24 000 digits in one run: carved without recursion
    assert [s.kind for s in result.spans] == [Kind.CARD] * 1500
    assert set(result.text.split()) == {"[CARD]"}


# -- segments ----------------------------------------------------------------------------------------------


def _segment(text: str, start: float = 0.0, leg: str = "caller", step: float = 0.5) -> dict[str, Any]:
    words = [{"word": w, "start": round(start + i * step, 2), "end": round(start + i * step + 0.4, 2),
              "conf": 0.9 - i * 0.01} for i, w in enumerate(text.split())]
    return {"leg": leg, "start": start, "end": words[-1]["end"] if words else start, "text": text,
            "confidence": 0.9, "words": words}


def test_segment_words_follow_the_text():
    seg = _segment(f"моя картка {spell('4111111111111111', 'uk')} дякую")
    out = redact_segment(seg, "uk")
    assert out["text"] == "моя картка [CARD] дякую"
    assert [w["word"] for w in out["words"]] == ["моя", "картка", "[CARD]", "дякую"]
    card = out["words"][2]
    assert card["start"] == seg["words"][2]["start"]
    assert card["end"] == seg["words"][17]["end"]
    assert card["conf"] == min(w["conf"] for w in seg["words"][2:18])
    assert out["words"][3] == seg["words"][18]
    assert " ".join(w["word"] for w in out["words"]) == out["text"]
    assert seg["text"].startswith("моя картка чотири") and len(seg["words"]) == 19  # input untouched
    assert (out["leg"], out["confidence"]) == ("caller", 0.9)


def test_segment_with_two_kinds_gets_two_token_words():
    seg = _segment("card 4111 1111 1111 1111 phone 067 123 45 67")
    out = redact_segment(seg)
    assert [w["word"] for w in out["words"]] == ["card", "[CARD]", "phone", "[PHONE]"]


def test_segment_whose_words_do_not_spell_the_text():
    seg = _segment(spell("4111111111111111", "en"))
    seg["text"] = "Card number: 4111-1111-1111-1111."
    out = redact_segment(seg, "en")
    assert out["text"] == "Card number: [CARD]."
    assert [w["word"] for w in out["words"]] == ["[CARD]"]


def test_segment_without_words():
    assert redact_segment({"text": "4111111111111111"})["text"] == "[CARD]"
    assert redact_segment({"text": "", "words": []}) == {"text": "", "words": []}


def test_card_dictated_across_segments_with_pauses():
    first = _segment("номер картки чотири один один один один один один один", start=0.0)
    second = _segment("один один один один один один один один дякую", start=first["end"] + 1.5)
    alone = [redact_segment(first, "uk")["text"], redact_segment(second, "uk")["text"]]
    assert alone == [first["text"], second["text"]]  # each half alone is not a card
    out = redact_transcript([first, second], "uk")
    assert [s["text"] for s in out] == ["номер картки [CARD]", "[CARD] дякую"]
    assert [w["word"] for w in out[1]["words"]] == ["[CARD]", "дякую"]
    assert out[0]["words"][-1]["end"] == first["words"][-1]["end"]


def test_digits_before_a_pause_do_not_hide_the_card_after_it():
    code = _segment("код дванадцять", start=0.0)
    card = _segment(spell("4111111111111111", "uk"), start=2.0)
    assert [s["text"] for s in redact_transcript([code, card], "uk")] == ["код дванадцять", "[CARD]"]


def test_segments_far_apart_or_of_other_legs_are_read_alone():
    first = _segment("чотири один один один один один один один", start=0.0)
    late = _segment("один один один один один один один один", start=first["end"] + 30)
    other = _segment("один один один один один один один один", start=first["end"] + 0.5, leg="agent")
    out = redact_transcript([first, late, other], "uk")
    assert [s["text"] for s in out] == [first["text"], late["text"], other["text"]]


def test_transcript_keeps_the_segment_order_and_fields():
    segs = [_segment("hello", 0.0, "agent"), _segment("four one one one", 1.0), _segment("bye", 2.0, "agent")]
    out = redact_transcript(segs, "en")
    assert [(s["leg"], s["text"]) for s in out] == [(s["leg"], s["text"]) for s in segs]


# -- policy ------------------------------------------------------------------------------------------------


FINAL = {"id": 7, "call_id": "c1", "type": "final", "leg": "caller", **_segment("card 4111 1111 1111 1111")}


def test_privacy_defaults():
    settings = PrivacySettings()
    assert settings.raw_transcript_roles == ["security", "admin"]
    assert settings.kinds == frozenset(Kind)


def test_unknown_role_in_settings_is_rejected():
    with pytest.raises(ValidationError) as err:
        PrivacySettings(raw_transcript_roles=["admn"])
    assert "admn" in str(err.value)


def test_privacy_section_loads_from_yaml(tmp_path):
    path = tmp_path / "hotline.yaml"
    path.write_text("privacy:\n  raw_transcript_roles: [security]\n  redact_kinds: [card, iban]\n")
    settings = load_settings(path)
    assert settings.privacy.raw_transcript_roles == ["security"]
    assert settings.privacy.kinds == {Kind.CARD, Kind.IBAN}


@pytest.mark.parametrize("role", ["agent", "integration", "admin", "security"])
def test_events_are_redacted_for_everyone_by_default(role):
    out = redact_event(FINAL, role, PrivacySettings())
    assert out["text"] == "card [CARD]"
    assert [w["word"] for w in out["words"]] == ["card", "[CARD]"]
    assert (out["id"], out["call_id"], out["type"]) == (7, "c1", "final")
    assert FINAL["text"] == "card 4111 1111 1111 1111"


def test_raw_event_for_an_allowed_role():
    assert redact_event(FINAL, "admin", PrivacySettings(), raw=True) == FINAL


def test_raw_event_for_another_role_is_refused():
    with pytest.raises(RawTranscriptForbidden) as err:
        redact_event(FINAL, "agent", PrivacySettings(), raw=True)
    assert (err.value.role, err.value.allowed) == ("agent", ["security", "admin"])
    assert "agent" in str(err.value) and "raw" in str(err.value)


def test_partial_and_other_events():
    partial = {"type": "partial", "leg": "caller", "text": "card four one one one one one one one"}
    assert redact_event(partial, "agent", PrivacySettings(), language="en")["text"] == "card [NUMBER]"
    dtmf = {"type": "dtmf", "digit": "4", "at": 1.5}
    assert redact_event(dtmf, "agent", PrivacySettings()) == {"type": "dtmf", "digit": "*", "at": 1.5}
    assert redact_event(dtmf, "admin", PrivacySettings(), raw=True) == dtmf
    hold = {"type": "hold"}
    assert redact_event(hold, "agent", PrivacySettings()) == hold


def test_reason_notes_and_a_stored_call_are_redacted_like_transcripts():
    said = "моя картка 4111 1111 1111 1111 пишіть на ivan@bank.ua"
    reason = redact_event({"type": "reason", "text": said}, "agent", PrivacySettings(), language="uk")
    assert "4111" not in reason["text"] and "[CARD]" in reason["text"] and "[EMAIL]" in reason["text"]
    notes = redact_event({"type": "wrapup", "notes": said, "outcome": "resolved"}, "agent", PrivacySettings())
    assert "[CARD]" in notes["notes"] and notes["outcome"] == "resolved"
    call = {"id": "c1", "language": "uk", "reason": said,
            "timeline": [{"type": "dtmf", "digit": "7"}, {"type": "wrapup", "notes": said}]}
    shown = redact_call(call, "agent", PrivacySettings())
    assert "4111" not in str(shown) and shown["timeline"][0]["digit"] == "*" and call["reason"] == said
    assert redact_call(call, "admin", PrivacySettings(), raw=True) == call
    with pytest.raises(RawTranscriptForbidden):
        redact_call(call, "agent", PrivacySettings(), raw=True)


# -- REST ---------------------------------------------------------------------------------------------------


SPOKEN_CARD = f"моя картка {spell('4111111111111111', 'uk')} дякую"


def _store_call(store: Store, language: str = "uk", agent_id: str | None = None) -> str:
    call_id = uuid.uuid4().hex
    store.calls.create(call_id, f"{call_id}@redaction-test", "+380441234567", None, "+380440000000", language)
    store.calls.update(call_id, state="ended", end_reason="caller_hangup", agent_id=agent_id)
    for seg in (_segment(SPOKEN_CARD, 0.0), _segment("пишіть на ivan@bank.ua", 20.0, leg="agent")):
        store.calls.add_segment(call_id, SegmentRecord(seg["leg"], seg["start"], seg["end"], seg["text"], 0.9,
                                                 seg["words"]))
    return call_id


@pytest.fixture(scope="module")
def call_agent(server: ServerHandle) -> str:
    """The agent who took the stored call (an agent reads only their own calls)."""
    return make_agent(server)


@pytest.fixture(scope="module")
def stored_call(server: ServerHandle, call_agent: str) -> str:
    store = Store(server.db_url)
    try:
        return _store_call(store, agent_id=call_agent)
    finally:
        store.close()


def _key(server: ServerHandle, role: str, agent_id: str | None = None) -> str:
    return make_key(server, role, agent_id)


def _texts(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [s["text"] for s in r.json()["segments"]]


def test_rest_agent_gets_redacted_text(server, stored_call, call_agent):
    with server.client(_key(server, "agent", call_agent)) as c:
        r = c.get(f"/api/v1/calls/{stored_call}/transcript")
        assert _texts(r) == ["моя картка [CARD] дякую", "пишіть на [EMAIL]"]
        assert r.json()["redacted"] is True
        assert [w["word"] for w in r.json()["segments"][0]["words"]] == ["моя", "картка", "[CARD]", "дякую"]
        denied = c.get(f"/api/v1/calls/{stored_call}/transcript", params={"raw": "true"})
        assert denied.status_code == 403
        assert "agent" in denied.json()["detail"] and "raw" in denied.json()["detail"]
        assert c.get(f"/api/v1/calls/{stored_call}/transcript", params={"raw": "false"}).status_code == 200


def test_rest_admin_gets_the_original_only_when_asking(server, stored_call):
    with server.client() as c:  # the session server's key is an admin's
        assert _texts(c.get(f"/api/v1/calls/{stored_call}/transcript")) == ["моя картка [CARD] дякую",
                                                                            "пишіть на [EMAIL]"]
        r = c.get(f"/api/v1/calls/{stored_call}/transcript", params={"raw": "true"})
        assert _texts(r) == [SPOKEN_CARD, "пишіть на ivan@bank.ua"]
        assert r.json()["redacted"] is False
        assert len(r.json()["segments"][0]["words"]) == 19


def test_rest_security_may_read_raw_and_integration_may_not(server, stored_call):
    with server.client(_key(server, "security")) as c:
        assert _texts(c.get(f"/api/v1/calls/{stored_call}/transcript", params={"raw": "true"}))[0] == SPOKEN_CARD
    with server.client(_key(server, "integration")) as c:
        assert c.get(f"/api/v1/calls/{stored_call}/transcript", params={"raw": "true"}).status_code == 403


def test_rest_store_keeps_the_original(server, stored_call, call_agent):
    with server.client(_key(server, "agent", call_agent)) as c:
        _texts(c.get(f"/api/v1/calls/{stored_call}/transcript"))
    store = Store(server.db_url)
    try:
        assert [s.text for s in store.calls.transcript(stored_call)] == [SPOKEN_CARD, "пишіть на ivan@bank.ua"]
    finally:
        store.close()


def test_rest_policy_comes_from_settings(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'api.db'}")
    store.migrate()
    try:
        owner = store.agents.create("Olena", "olena", "olena-secret-1", "hotline")
        call_id = _store_call(store, agent_id=owner.id)
        privacy = PrivacySettings(raw_transcript_roles=["agent"], redact_kinds=[Kind.EMAIL])
        ctx = AppContext(Settings(privacy=privacy), store, EventBus(), Metrics(), PortAllocator(40000, 40010))
        agent, admin = store.keys.create("agent", agent_id=owner.id), store.keys.create("admin")
        url = f"/api/v1/calls/{call_id}/transcript"
        with serve_in_thread(create_app(ctx)) as base, httpx.Client(base_url=base, timeout=10) as client:
            as_agent = {"Authorization": f"Bearer {agent}"}
            assert _texts(client.get(url, headers=as_agent)) == [SPOKEN_CARD, "пишіть на [EMAIL]"]  # cards shown
            assert _texts(client.get(url, params={"raw": "true"}, headers=as_agent))[1] == "пишіть на ivan@bank.ua"
            as_admin = {"Authorization": f"Bearer {admin}"}
            assert client.get(url, params={"raw": "true"}, headers=as_admin).status_code == 403
            assert client.get(url, params={"raw": "true"}).status_code == 401
            assert client.get("/api/v1/calls/nosuchcall/transcript", headers=as_agent).status_code == 403  # not theirs
        raw_reads = [e for e in store.audit.entries() if e.action == "raw_read"]
        assert [(e.role, e.call_id, e.detail) for e in raw_reads] == [("agent", call_id, {"what": "transcript"})]
    finally:
        store.close()
