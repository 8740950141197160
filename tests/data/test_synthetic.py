"""The built-in generated En→De corpus: sizes, determinism, disjoint splits and German grammar."""

from __future__ import annotations

import re
import time

import pytest

from ronbun.data import synthetic as syn
from ronbun.data.synthetic import NP, Clause, generate_corpus, render, render_that, write_corpus

NOUN = {n.en: n for n in syn.NOUNS}
ADJ = {a.en: a for a in syn.ADJECTIVES}
VERB = {v.de_inf: v for v in (*syn.TRANSITIVE_VERBS, *syn.INTRANSITIVE_VERBS, *syn.SAYING_VERBS)}
I, YOU, HE, SHE, WE, YOU_ALL, THEY = range(7)


@pytest.fixture(scope="module")
def corpus() -> dict[str, tuple[list[str], list[str]]]:
    return generate_corpus(seed=0)


def test_the_default_corpus_is_generated_in_seconds():
    """~1 s on an idle core; the bound is loose because CI machines are shared."""
    t0 = time.perf_counter()
    generate_corpus(seed=1)
    elapsed = time.perf_counter() - t0
    assert elapsed < 20.0, f"generating the default corpus took {elapsed:.2f} s"


def test_default_sizes(corpus):
    assert {k: len(v[0]) for k, v in corpus.items()} == {"train": 40_000, "valid": 1_000, "test": 1_000}
    for en, de in corpus.values():
        assert len(en) == len(de)
        assert all(s and "\n" not in s for s in en + de)


def test_small_sizes_and_zero():
    c = generate_corpus(n_train=300, n_valid=20, n_test=0, seed=3)
    assert [len(c[s][0]) for s in ("train", "valid", "test")] == [300, 20, 0]


def test_deterministic_per_seed():
    a = generate_corpus(500, 50, 50, seed=7)
    b = generate_corpus(500, 50, 50, seed=7)
    c = generate_corpus(500, 50, 50, seed=8)
    assert a == b
    assert a["train"] != c["train"]


def test_held_out_sets_do_not_depend_on_n_train():
    a = generate_corpus(100, 50, 50, seed=1)
    b = generate_corpus(2000, 50, 50, seed=1)
    assert a["test"] == b["test"] and a["valid"] == b["valid"]


def test_splits_are_disjoint_and_unique(corpus):
    for side in (0, 1):
        sets = {k: set(v[side]) for k, v in corpus.items()}
        for k, v in corpus.items():
            assert len(sets[k]) == len(v[side]), f"duplicates within {k}"
        assert not sets["train"] & sets["valid"]
        assert not sets["train"] & sets["test"]
        assert not sets["valid"] & sets["test"]


def test_vocabulary_is_a_few_hundred_words(corpus):
    en, de = corpus["train"]
    words_en = {w.lower() for s in en for w in re.findall(r"\w+", s)}
    words_de = {w.lower() for s in de for w in re.findall(r"\w+", s)}
    assert 250 <= len(words_en) <= 1000
    assert 250 <= len(words_de) <= 1000


# ---------------------------------------------------------------- hand-built examples


def test_verb_final_subordinate_clause():
    sub = Clause(NP(NOUN["dog"]), VERB["sehen"], NP(NOUN["cat"]))
    assert render_that(NP(pron=I), VERB["wissen"], sub) == (
        "I know that the dog sees the cat.",
        "Ich weiß, dass der Hund die Katze sieht.",
    )
    past = Clause(NP(NOUN["dog"]), VERB["sehen"], NP(NOUN["cat"]), tense="past")
    assert render_that(NP(pron=SHE), VERB["sagen"], past, tense="past") == (
        "She said that the dog saw the cat.",
        "Sie hat gesagt, dass der Hund die Katze gesehen hat.",
    )


def test_separable_verb_and_modal():
    c = Clause(NP(NOUN["man"]), VERB["anrufen"], NP(NOUN["woman"]))
    assert render(c) == ("The man calls the woman.", "Der Mann ruft die Frau an.")
    c.tense, c.modal = "modal", syn.MODALS[2]
    assert render(c) == ("The man wants to call the woman.", "Der Mann will die Frau anrufen.")
    c = Clause(NP(pron=HE), VERB["abholen"], NP(pron=SHE), tense="past")
    assert render(c) == ("He picked her up.", "Er hat sie abgeholt.")


def test_case_gender_and_adjective_agreement():
    big = (ADJ["big"],)
    c = Clause(NP(NOUN["dog"], definite=False, adjs=big), VERB["sehen"], NP(NOUN["dog"], adjs=big))
    assert render(c) == ("A big dog sees the big dog.", "Ein großer Hund sieht den großen Hund.")
    c = Clause(NP(NOUN["house"], definite=False, adjs=big), VERB["sehen"], NP(NOUN["boy"], plural=True))
    c.subj = NP(NOUN["child"], definite=False, adjs=(ADJ["old"],))
    c.obj = NP(NOUN["house"], definite=False, adjs=big)
    assert render(c) == ("An old child sees a big house.", "Ein altes Kind sieht ein großes Haus.")
    c = Clause(NP(NOUN["cat"]), VERB["folgen"], NP(NOUN["boy"]), tense="past")
    assert render(c) == ("The cat followed the boy.", "Die Katze ist dem Jungen gefolgt.")
    c = Clause(NP(pron=WE), VERB["helfen"], NP(NOUN["child"], plural=True, definite=False, adjs=big))
    assert render(c) == ("We help big children.", "Wir helfen großen Kindern.")


# ---------------------------------------------------------------- grammar checks over samples

# Independent statement of German article + adjective-ending agreement: (determiner, ending, case)
# triples allowed for each gender/number. None: no determiner. Case is "nom" or "obl" (acc/dat), which
# matters for weak masculine nouns (der Junge, den/dem Jungen).
_ALLOWED = {
    "m": {("der", "e", "nom"), ("ein", "er", "nom"), ("den", "en", "obl"), ("dem", "en", "obl"),
          ("einen", "en", "obl"), ("einem", "en", "obl"), ("im", "en", "obl")},
    "f": {("die", "e", "nom"), ("der", "en", "obl"), ("eine", "e", "nom"), ("einer", "en", "obl")},
    "n": {("das", "e", "nom"), ("dem", "en", "obl"), ("ein", "es", "nom"), ("einem", "en", "obl"),
          ("im", "en", "obl")},
    "p": {("die", "en", "nom"), ("den", "en", "obl"), (None, "e", "nom"), (None, "en", "obl")},
}  # fmt: skip
_REL = {"m": {"der", "den", "dem"}, "f": {"die", "der"}, "n": {"das", "dem"}, "p": {"die", "denen"}}
_DETERMINERS = {"der", "die", "das", "den", "dem", "ein", "eine", "einen", "einem", "einer", "im"}


def _noun_readings() -> dict[str, set[tuple[str, str]]]:
    """German noun form → {(gender or 'p', case constraint: 'nom' | 'obl' | 'any')}."""
    out: dict[str, set[tuple[str, str]]] = {}
    for n in syn.NOUNS:
        out.setdefault(n.de, set()).add((n.gender, "nom" if n.weak else "any"))
        if n.weak:  # den Jungen, dem Studenten, den Bauern
            out.setdefault(n.de + ("n" if n.de.endswith(("e", "er")) else "en"), set()).add((n.gender, "obl"))
        out.setdefault(n.de_pl, set()).add(("p", "any"))
        out.setdefault(n.de_pl if n.de_pl[-1] in "ns" else n.de_pl + "n", set()).add(("p", "any"))
    return out


def _check_german_np_agreement(sentence: str, readings, adj_forms: dict[str, str]) -> None:
    toks = re.findall(r"\w+|[,.?]", sentence)
    for i, tok in enumerate(toks):
        if tok not in readings or i == 0:  # sentence-initial "Junge Hunde ..." / "Laden sie ... ein?"
            continue
        j, endings = i - 1, []
        # adjectives are lower-case except sentence-initially ("Junge" after "ein" is the noun)
        while j >= 0 and (j == 0 or toks[j].islower()) and (ending := adj_forms.get(toks[j].lower())):
            endings.append(ending)
            j -= 1
        det = toks[j].lower() if j >= 0 and toks[j].lower() in _DETERMINERS else None
        dets = {det}
        if det is not None and j > 0 and toks[j - 1] == ",":
            dets.add(None)  # "..., der große Zeitungen liest": maybe a relative pronoun, not an article
        assert len(set(endings)) <= 1, f"adjectives disagree in {sentence!r}"
        ok = any(
            d in dets and (not endings or e == endings[0]) and (form == "any" or form == case)
            for g, form in readings[tok]
            for d, e, case in _ALLOWED[g]
        )
        assert ok, f"{det} {' '.join(endings)} {tok}: no agreeing reading in {sentence!r}"
        # a relative pronoun right after the noun agrees with it in gender and number
        if (
            i + 2 < len(toks)
            and toks[i + 1] == ","
            and toks[i + 2] in {"der", "die", "das", "den", "dem", "denen"}
        ):
            assert any(toks[i + 2] in _REL[g] for g, _ in readings[tok]), sentence


def test_german_noun_phrases_agree(corpus):
    readings = _noun_readings()
    adj_forms = {a.de + e: e for a in syn.ADJECTIVES for e in ("e", "en", "er", "es")}  # große → e
    for de in corpus["train"][1][:10_000]:
        _check_german_np_agreement(de, readings, adj_forms)


def test_subject_verb_agreement(corpus):
    en_third = {
        v.en_s.split()[0] for v in (*syn.TRANSITIVE_VERBS, *syn.INTRANSITIVE_VERBS, *syn.SAYING_VERBS)
    }
    en_base = {v.en.split()[0] for v in (*syn.TRANSITIVE_VERBS, *syn.INTRANSITIVE_VERBS, *syn.SAYING_VERBS)}
    en_past = {v.en_past.split()[0] for v in (*syn.TRANSITIVE_VERBS, *syn.INTRANSITIVE_VERBS)}
    checked = 0
    for en, de in zip(*corpus["train"], strict=True):
        e, d = re.findall(r"\w+", en), re.findall(r"\w+", de)
        if e[0] in ("I", "We", "They") or (e[0] == "You" and e[1] != "all"):
            assert e[1] not in en_third - en_base and e[1] != "wants", en
        if e[0] in ("He", "She"):
            assert e[1] not in en_base - en_third - en_past and e[1] != "want", en
        if d[0] == "Ich":
            assert d[1].endswith("e") or d[1] in {"kann", "muss", "will", "mag", "weiß", "bin"}, de
        elif d[0] == "Du":
            assert d[1].endswith("t"), de
        elif d[0] == "Wir":
            assert d[1].endswith("en") or d[1] == "sind", de
        elif d[0] == "Er":
            assert d[1].endswith("t") or d[1] in {"kann", "muss", "will", "mag", "weiß"}, de
        elif d[0] == "Ihr":
            assert d[1].endswith("t") or d[1] == "seid", de
        else:
            continue
        checked += 1
    assert checked > 2000


def test_corpus_has_reordering_structures(corpus):
    en, de = corpus["train"]
    finite_sub_end = re.compile(r", (dass|weil|obwohl|bevor) \w+ \w+ .*\w+\.$")
    assert any(finite_sub_end.search(d) and " that " in e for e, d in zip(en, de, strict=True))
    assert any(d.startswith("Gestern hat ") or d.startswith("Gestern ist ") for d in de)  # V2 inversion
    assert any(d.startswith("Weil ") and e.startswith("Because ") for e, d in zip(en, de, strict=True))
    assert any(d.endswith(" an.") and " calls " in e for e, d in zip(en, de, strict=True))  # particle
    assert any(e.endswith("?") and d.endswith("?") for e, d in zip(en, de, strict=True))


def test_write_corpus(tmp_path):
    paths = write_corpus(tmp_path, n_train=200, n_valid=10, n_test=10, seed=0)
    assert set(paths) == {"train", "valid", "test"}
    for split, n in (("train", 200), ("valid", 10), ("test", 10)):
        for p in paths[split]:
            assert p.name.startswith(split)
            assert len(p.read_text(encoding="utf-8").splitlines()) == n
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"{s}.{lang}" for s in ("train", "valid", "test") for lang in ("en", "de")
    )
