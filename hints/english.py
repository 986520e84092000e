"""A light English stemmer: enough to fold plurals, -ed and -ing onto one key (not a real Porter stemmer).

Both the knowledge base and the caller's words go through the same function, so the key only needs to
be consistent, not a dictionary word: "charge", "charges", "charged", "charging" all become "charg".
"""

from __future__ import annotations

IRREGULAR: dict[str, str] = {
    "lost": "lose", "stolen": "steal", "stole": "steal", "forgot": "forget", "forgotten": "forget",
    "sent": "send", "paid": "pay", "came": "come", "got": "get", "gotten": "get", "took": "take",
    "taken": "take", "made": "make", "gave": "give", "given": "give", "went": "go", "gone": "go",
    "left": "leave", "moved": "move", "bought": "buy", "sold": "sell", "withdrew": "withdraw",
    "withdrawn": "withdraw",
}
KEEP = frozenset({"news", "series", "species", "always", "perhaps"})
_DOUBLE_KEEP = frozenset("lsz")


def stem(word: str) -> str:
    """The key of a lowercase English word."""
    if word in IRREGULAR:
        return stem(IRREGULAR[word])
    w = word
    if len(w) <= 3 or w in KEEP:
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    for suffix in ("ing", "ed"):
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            w = w[: -len(suffix)]
            if len(w) > 3 and w[-1] == w[-2] and w[-1] not in _DOUBLE_KEEP and w[-1] not in "aeiou":
                w = w[:-1]
            break
    if len(w) > 3 and w.endswith("e") and not w.endswith("ee"):
        w = w[:-1]
    return w
