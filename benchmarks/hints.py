"""Whispered-hints latency: ``HintSession.on_final`` on realistic finals, against lemmatization alone.

Protocol (``python -m benchmarks.hints [--quick] [--finals N]``; fixed seed):

* the shipped knowledge base (``configs/knowledge``) and rules (``configs/hints.yaml``) are loaded once;
  load time is reported;
* N finals (2,000; ``--quick``: 300) are drawn from templates: uk 50 %, ru 35 %, en 15 %; 40 % are about a
  knowledge-base topic (a core phrase in varied word forms with fillers around it), 60 % are filler a
  caller says in any call ("алло", "так, зачекайте", a name, thanks). They are grouped into calls of 10
  finals; each call is one ``HintSession`` (with a profile, so the rules run too);
* baseline, measured in the same run on the same finals: the lemmatization alone, i.e. pymorphy3
  ``parse`` of every word (uncached; English words through the stemmer), which is what a matcher must
  do at the least;
* ``on_final`` is timed twice: with no word cache (the lemmatizer's cache is cleared before every
  final, outside the timing: every word is analysed again, as in the baseline) and with the cache warm
  (the steady state of a running server, whose callers reuse a small vocabulary). Also counted: hints
  per final, filler finals that fired a knowledge-base hint (should be 0) and topical finals that fired
  the intended article (the corpus is made from the same phrasing the knowledge base was written with,
  so this share is an upper bound, not an accuracy figure).

Results: a table on stdout and ``benchmarks/results/hints.json``. Target: warm p95 <= 5 ms per final.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.harness import RESULTS, BenchResult, machine_info, summary
from hints.context import Card, HintContext, Interaction
from hints.engine import HintEngine
from hints.english import stem
from hints.lemmas import analyzer, words
from hints.settings import HintSettings

OUT = RESULTS / "hints.json"
SEED = 20250310
TARGET_P95_MS = 5.0
CALL_FINALS = 10
NOW = datetime(2025, 3, 10, 12, tzinfo=UTC)

# (language, article id, core phrases in several word forms)
TOPICAL: list[tuple[str, str, list[str]]] = [
    ("uk", "card-lost", ["я загубив картку", "картку загублено", "втратила картки", "загубила свою картку"]),
    ("uk", "card-blocked", ["моя картка заблокована", "заблокували картку", "картка не працює взагалі"]),
    ("uk", "card-limit", ["хочу збільшити ліміт", "перевищено ліміт на зняття готівки", "змінити денний ліміт"]),
    ("uk", "pin-reset", ["забула пін код", "хочу змінити пін код", "пін код не підходить"]),
    ("uk", "transfer-missing", ["гроші не прийшли", "переказ не надійшов", "відправив гроші а вони не прийшли"]),
    ("uk", "fees", ["зняли комісію", "яка комісія за переказ", "за що списали гроші"]),
    ("uk", "loan-payment", ["як погасити кредит", "дострокове погашення кредиту", "платіж по кредиту"]),
    ("uk", "app-login", ["не можу зайти в застосунок", "не приходить смс код", "мобільний банк не працює"]),
    ("uk", "fraud", ["мені дзвонили шахраї", "підозріла операція по картці", "просили код з смс"]),
    ("uk", "statement", ["потрібна виписка по рахунку", "довідка для візи", "історія операцій за місяць"]),
    ("ru", "card-lost", ["потерял карту", "карта потеряна", "потеряла карточку", "украли карту"]),
    ("ru", "card-blocked", ["карта заблокирована", "заблокировали карту", "не проходит оплата картой"]),
    ("ru", "pin-reset", ["забыл пин код", "хочу поменять пин"]),
    ("ru", "transfer-missing", ["деньги не пришли", "перевод не пришел", "средства не поступили"]),
    ("ru", "loan-payment", ["хочу погасить кредит", "досрочное погашение", "ежемесячный платеж"]),
    ("ru", "currency-exchange", ["какой курс доллара", "хочу обменять валюту", "купить доллары"]),
    ("ru", "card-delivery", ["когда привезут карту", "курьер не приехал", "заказал карту"]),
    ("en", "card-lost", ["i lost my card", "my card was stolen", "someone stole my card"]),
    ("en", "pin-reset", ["i forgot my pin", "i need to change my pin"]),
    ("en", "transfer-missing", ["the transfer has not arrived", "money has not arrived yet"]),
    ("en", "app-login", ["i can't log into the app", "the app is not working"]),
    ("en", "fees", ["why was i charged a fee", "what is the fee for a transfer"]),
]
PREFIX = {"uk": ["", "добрий день", "алло", "так от", "слухайте", "розумієте"],
          "ru": ["", "здравствуйте", "алло", "вот", "слушайте", "понимаете"],
          "en": ["", "hello", "hi", "well", "so", "yes"]}
SUFFIX = {"uk": ["", "що мені робити", "допоможіть будь ласка", "ще вчора", "вже третій день"],
          "ru": ["", "что мне делать", "помогите пожалуйста", "ещё вчера", "уже третий день"],
          "en": ["", "what should i do", "please help", "since yesterday", "for three days now"]}
FILLER = {"uk": ["алло", "так", "так так зрозуміло", "зачекайте хвилинку", "мене звати олена петренко",
                 "дякую вам дуже", "повторіть будь ласка", "я вас погано чую", "добре я почекаю",
                 "мій номер закінчується на сорок два", "а скільки це займе часу", "до побачення"],
          "ru": ["алло", "да", "да да понятно", "подождите минуточку", "меня зовут иван сергеевич",
                 "спасибо большое", "повторите пожалуйста", "я вас плохо слышу", "хорошо я подожду",
                 "а сколько это займет времени", "до свидания"],
          "en": ["hello", "yes", "okay i see", "hold on a second", "my name is john smith",
                 "thank you very much", "could you repeat that", "i can barely hear you", "goodbye"]}
LANG_WEIGHTS = {"uk": 0.5, "ru": 0.35, "en": 0.15}


@dataclass(frozen=True)
class Final:
    """One benchmark final: its text, language and the article it should fire (None: filler)."""

    text: str
    language: str
    expected: str | None


def corpus(n: int, seed: int = SEED) -> list[Final]:
    """``n`` finals drawn with ``seed`` (see the module doc for the mix)."""
    rng = random.Random(seed)
    langs, weights = list(LANG_WEIGHTS), list(LANG_WEIGHTS.values())
    out = []
    for _ in range(n):
        lang = rng.choices(langs, weights)[0]
        if rng.random() < 0.4:
            _, art, cores = rng.choice([t for t in TOPICAL if t[0] == lang])
            text = " ".join(p for p in (rng.choice(PREFIX[lang]), rng.choice(cores), rng.choice(SUFFIX[lang])) if p)
            out.append(Final(text, lang, art))
        else:
            out.append(Final(rng.choice(FILLER[lang]), lang, None))
    return out


def profile(i: int) -> HintContext:
    """Every third caller has a blocked card and a recent call; the rest are plain and verified."""
    if i % 3:
        return HintContext(f"c{i}", cards=(Card("1000", "active", date(2027, 1, 31)),), verification="verified")
    return HintContext(f"c{i}", cards=(Card("2000", "blocked", date(2027, 1, 31), "antifraud"),),
                       interactions=(Interaction(NOW - timedelta(days=2), ("card_lost",)),))


def _baseline(finals: list[Final]) -> list[float]:
    """Milliseconds per final for uncached pymorphy3 parsing of every word (stemming for English)."""
    analyzers = {lang: analyzer(lang) for lang in ("uk", "ru")}
    out = []
    for f in finals:
        t0 = time.perf_counter_ns()
        for w in words(f.text):
            if f.language == "en":
                stem(w)
            else:
                [p.normal_form for p in analyzers[f.language].parse(w)]
        out.append((time.perf_counter_ns() - t0) / 1e6)
    return out


def _sessions(engine: HintEngine, finals: list[Final], cache: bool = True) -> tuple[list[float], dict[str, int]]:
    """Milliseconds per ``on_final`` over calls of CALL_FINALS finals, and hit counts (``cache`` False:
    the word cache is emptied before each final)."""
    times: list[float] = []
    counts = {"hints": 0, "kb_hints": 0, "filler_fired": 0, "topical": 0, "topical_hit": 0}
    for c in range(0, len(finals), CALL_FINALS):
        session = engine.session(clock=lambda: NOW)
        session.on_profile(profile(c // CALL_FINALS))
        for f in finals[c : c + CALL_FINALS]:
            if not cache:
                engine.lemmatizer.cache_clear()
            t0 = time.perf_counter_ns()
            hints = session.on_final(f.text, "caller", f.language)
            times.append((time.perf_counter_ns() - t0) / 1e6)
            kb = [h for h in hints if h.kind == "kb"]
            counts["hints"] += len(hints)
            counts["kb_hints"] += len(kb)
            if f.expected is None:
                counts["filler_fired"] += bool(kb)
            else:
                counts["topical"] += 1
                counts["topical_hit"] += f"kb:{f.expected}" in session.fired
    return times, counts


def run(quick: bool = False, n: int | None = None) -> BenchResult:
    """Run the benchmark; the result is also written to ``benchmarks/results/hints.json``."""
    res = BenchResult("hints")
    finals = corpus(n or (300 if quick else 2000))
    analyzer("uk"), analyzer("ru")  # dictionaries are process-wide: load them outside every timing
    t0 = time.perf_counter()
    engine = HintEngine.load(HintSettings())
    load_s = time.perf_counter() - t0
    _baseline(finals[:50])  # warm-up: first calls into the dictionaries touch their pages
    gc.collect()
    base = _baseline(finals)
    gc.collect()
    nocache, _ = _sessions(engine, finals, cache=False)
    gc.collect()
    warm, counts = _sessions(engine, finals)
    stats = {"baseline_lemmatize": summary(base), "on_final_nocache": summary(nocache),
             "on_final_warm": summary(warm)}
    for name, s in stats.items():
        for q in ("p50", "p95", "max"):
            target, op = (TARGET_P95_MS, "<=") if (name, q) == ("on_final_warm", "p95") else (None, "")
            res.add(f"{name} {q}", s[q], "ms", target, op)
    res.add("engine load (kb + index + rules)", load_s * 1000, "ms")
    res.add("filler finals that fired a kb hint", counts["filler_fired"], "finals", 0, "<=")
    res.add("topical finals that fired their article", counts["topical_hit"] / max(1, counts["topical"]), "share")
    res.details = {"finals": len(finals), "calls": -(-len(finals) // CALL_FINALS), "seed": SEED,
                   "articles": len(engine.kb), "rules": len(engine.rules), "counts": counts, "stats_ms": stats,
                   "ratio_warm_p50_to_baseline_p50": _ratio(stats["on_final_warm"]["p50"],
                                                            stats["baseline_lemmatize"]["p50"]),
                   "ratio_nocache_p50_to_baseline_p50": _ratio(stats["on_final_nocache"]["p50"],
                                                               stats["baseline_lemmatize"]["p50"])}
    res.notes.append("baseline = uncached pymorphy3 parse of every word of the final (English: the stemmer)")
    _write(res, quick)
    return res


def _ratio(a: float | int | None, b: float | int | None) -> float | None:
    return None if a is None or not b else round(float(a) / float(b), 3)


def _write(res: BenchResult, quick: bool) -> None:
    doc: dict[str, Any] = {"machine": machine_info(), "quick": quick, "protocol": __doc__, **res.to_json()}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    Path(OUT).write_text(json.dumps(doc, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")


def main() -> None:
    """Command line entry point: print the table."""
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="300 finals instead of 2,000")
    ap.add_argument("--finals", type=int, default=None, help="number of finals (overrides --quick)")
    args = ap.parse_args()
    res = run(args.quick, args.finals)
    print(f"{'figure':44} {'value':>10} {'unit':<7} {'target':>8}  result")
    for f in res.figures:
        target = f"{f.op} {f.target:g}" if f.op and f.target is not None else ""
        verdict = {True: "PASS", False: "FAIL", None: ""}[f.passed]
        print(f"{f.name:44} {f.value if f.value is not None else '-':>10} {f.unit:<7} {target:>8}  {verdict}")
    for kind in ("nocache", "warm"):
        print(f"on_final ({kind}) p50 / lemmatization-alone p50: {res.details[f'ratio_{kind}_p50_to_baseline_p50']}")
    print(f"results: {OUT}")


if __name__ == "__main__":
    main()
