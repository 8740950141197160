"""A built-in, generated English → German parallel corpus (no download needed).

The paper trains on WMT 2014 English-German (§5.1 Training Data and Batching). That is far too big for
a demo, so ronbun ships a small made-up language pair built from *real* English and German words and
a fragment of real German grammar, so that a model has actual structure to learn and its attention
maps (§3.2, Figure 3-5 of the paper) show non-monotonic alignments:

* nouns with grammatical gender and agreeing articles (der/die/das, ein/eine), case (nominative,
  accusative, dative; ``den Hund``, ``dem Hund``), plural forms and n-declension (``den Jungen``);
* adjectives with weak / mixed / strong endings (``der große Hund``, ``ein großer Hund``,
  ``mit den großen Hunden``);
* verbs conjugated for person and number (``ich sehe, du siehst, er sieht, wir sehen ...``),
  present tense, perfect tense (``hat ... gesehen``, ``ist ... gelaufen``) and modal verbs
  (``will ... sehen``);
* verb-second order with inversion after a fronted time adverb or subordinate clause
  (``Gestern hat der Hund die Katze gesehen.``, ``Weil die Katze singt, schläft der Hund.``);
* verb-final subordinate and relative clauses
  (``I know that the dog sees the cat.`` → ``Ich weiß, dass der Hund die Katze sieht.``);
* separable verbs, whose particle goes to the end of the main clause
  (``The man calls the woman.`` → ``Der Mann ruft die Frau an.``);
* yes/no questions (``Does the dog see the cat?`` → ``Sieht der Hund die Katze?``).

English → German is a function here (every English sentence has exactly one German translation): the
few English forms that would be ambiguous (``you`` singular/plural, ``read`` present/past) are
generated only where they are not.

The corpus is deterministic given ``seed``. Sentences are unique across all splits; the test split is
drawn first, then validation, then training, so a given seed always yields the same test set whatever
``n_train`` is.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from pathlib import Path

# --------------------------------------------------------------------------------------------------
# Lexicon
# --------------------------------------------------------------------------------------------------

CATEGORIES = ("person", "animal", "food", "text", "openable", "device", "clothing", "object", "place")
ANIMATE = ("person", "animal")
THINGS = ("food", "text", "openable", "device", "clothing", "object", "place")
CONCRETE = ("food", "text", "openable", "device", "clothing", "object")


@dataclass(frozen=True, slots=True)
class Noun:
    en: str
    en_pl: str
    gender: str  # "m" | "f" | "n"
    de: str
    de_pl: str
    cat: str
    weak: bool = False  # n-declension: der Junge, den/dem Jungen

    @property
    def de_oblique(self) -> str:
        """Singular accusative/dative form (differs only for weak masculine nouns)."""
        if not self.weak:
            return self.de
        return self.de + ("n" if self.de.endswith(("e", "er")) else "en")

    @property
    def de_pl_dat(self) -> str:
        """Dative plural adds -n unless the plural already ends in -n or -s (den Kindern, den Autos)."""
        return self.de_pl if self.de_pl.endswith(("n", "s")) else self.de_pl + "n"


# category  english-sg english-pl  gender  german-sg german-pl  [w = weak noun]
_NOUN_TABLE = """
person man men m Mann Männer
person woman women f Frau Frauen
person child children n Kind Kinder
person boy boys m Junge Jungen w
person girl girls n Mädchen Mädchen
person teacher teachers m Lehrer Lehrer
person doctor doctors m Arzt Ärzte
person student students m Student Studenten w
person cook cooks m Koch Köche
person farmer farmers m Bauer Bauern w
person brother brothers m Bruder Brüder
person sister sisters f Schwester Schwestern
person father fathers m Vater Väter
person mother mothers f Mutter Mütter
person friend friends m Freund Freunde
person king kings m König Könige
person queen queens f Königin Königinnen
person baby babies n Baby Babys
person grandmother grandmothers f Großmutter Großmütter
person grandfather grandfathers m Großvater Großväter
person soldier soldiers m Soldat Soldaten w
person painter painters m Maler Maler
animal dog dogs m Hund Hunde
animal cat cats f Katze Katzen
animal horse horses n Pferd Pferde
animal bird birds m Vogel Vögel
animal mouse mice f Maus Mäuse
animal cow cows f Kuh Kühe
animal pig pigs n Schwein Schweine
animal rabbit rabbits m Hase Hasen w
animal bear bears m Bär Bären w
animal monkey monkeys m Affe Affen w
animal lion lions m Löwe Löwen w
animal elephant elephants m Elefant Elefanten w
animal duck ducks f Ente Enten
animal owl owls f Eule Eulen
animal fox foxes m Fuchs Füchse
animal wolf wolves m Wolf Wölfe
animal frog frogs m Frosch Frösche
animal goat goats f Ziege Ziegen
animal chicken chickens n Huhn Hühner
animal donkey donkeys m Esel Esel
food apple apples m Apfel Äpfel
food cake cakes m Kuchen Kuchen
food egg eggs n Ei Eier
food banana bananas f Banane Bananen
food orange oranges f Orange Orangen
food pear pears f Birne Birnen
food carrot carrots f Karotte Karotten
food tomato tomatoes f Tomate Tomaten
food cookie cookies m Keks Kekse
food sausage sausages f Wurst Würste
food potato potatoes f Kartoffel Kartoffeln
food cherry cherries f Kirsche Kirschen
food lemon lemons f Zitrone Zitronen
text book books n Buch Bücher
text letter letters m Brief Briefe
text newspaper newspapers f Zeitung Zeitungen
text card cards f Karte Karten
text story stories f Geschichte Geschichten
text poem poems n Gedicht Gedichte
text magazine magazines f Zeitschrift Zeitschriften
text note notes f Notiz Notizen
openable door doors f Tür Türen
openable window windows n Fenster Fenster
openable box boxes f Kiste Kisten
openable bag bags f Tasche Taschen
openable bottle bottles f Flasche Flaschen
openable gate gates n Tor Tore
openable suitcase suitcases m Koffer Koffer
openable drawer drawers f Schublade Schubladen
device lamp lamps f Lampe Lampen
device radio radios n Radio Radios
device computer computers m Computer Computer
device television televisions m Fernseher Fernseher
device light lights n Licht Lichter
device oven ovens m Ofen Öfen
clothing hat hats m Hut Hüte
clothing coat coats m Mantel Mäntel
clothing shoe shoes m Schuh Schuhe
clothing dress dresses n Kleid Kleider
clothing jacket jackets f Jacke Jacken
clothing sweater sweaters m Pullover Pullover
clothing glove gloves m Handschuh Handschuhe
clothing scarf scarves m Schal Schals
clothing shirt shirts n Hemd Hemden
object ball balls m Ball Bälle
object key keys m Schlüssel Schlüssel
object cup cups f Tasse Tassen
object flower flowers f Blume Blumen
object picture pictures n Bild Bilder
object chair chairs m Stuhl Stühle
object table tables m Tisch Tische
object car cars n Auto Autos
object bicycle bicycles n Fahrrad Fahrräder
object present presents n Geschenk Geschenke
object watch watches f Uhr Uhren
object glass glasses n Glas Gläser
object umbrella umbrellas m Regenschirm Regenschirme
object stone stones m Stein Steine
object pencil pencils m Bleistift Bleistifte
object toy toys n Spielzeug Spielzeuge
object plate plates m Teller Teller
object spoon spoons m Löffel Löffel
object boat boats n Boot Boote
object basket baskets m Korb Körbe
place park parks m Park Parks
place garden gardens m Garten Gärten
place house houses n Haus Häuser
place city cities f Stadt Städte
place kitchen kitchens f Küche Küchen
place school schools f Schule Schulen
place forest forests m Wald Wälder
place room rooms n Zimmer Zimmer
place station stations m Bahnhof Bahnhöfe
place restaurant restaurants n Restaurant Restaurants
place village villages n Dorf Dörfer
place shop shops m Laden Läden
place library libraries f Bibliothek Bibliotheken
place museum museums n Museum Museen
place lake lakes m See Seen
place river rivers m Fluss Flüsse
"""

NOUNS: tuple[Noun, ...] = tuple(
    Noun(en, en_pl, g, de, de_pl, cat, weak=bool(rest))
    for cat, en, en_pl, g, de, de_pl, *rest in (line.split() for line in _NOUN_TABLE.strip().splitlines())
)
NOUNS_BY_CAT: dict[str, tuple[Noun, ...]] = {c: tuple(n for n in NOUNS if n.cat == c) for c in CATEGORIES}


@dataclass(frozen=True, slots=True)
class Adjective:
    en: str
    de: str  # stem that takes the ending: groß-e, müd-e
    cats: frozenset[str]
    group: str  # at most one adjective per group in a noun phrase (no "big small dog")


_ADJ_CLASSES = {
    "any": CATEGORIES,
    "anim": ANIMATE,
    "animal+thing": ("animal", *THINGS),
    "thing": THINGS,
    "concrete": CONCRETE,
    "food": ("food",),
    "text": ("text",),
    "openable": ("openable",),
    "clothing+food": ("clothing", "food"),
}

# english  german-stem  group  class
_ADJ_TABLE = """
big groß size any
small klein size any
old alt age any
young jung age anim
new neu age thing
beautiful schön look any
happy glücklich mood anim
tired müd mood anim
hungry hungrig mood anim
angry wütend mood anim
funny lustig trait anim
friendly freundlich trait anim
lazy faul trait anim
clever klug trait anim
fast schnell trait anim
strong stark trait anim
brown braun colour animal+thing
black schwarz colour animal+thing
white weiß colour animal+thing
red rot colour concrete
blue blau colour concrete
green grün colour concrete
yellow gelb colour concrete
heavy schwer weight concrete
cheap billig price concrete
clean sauber state thing
dirty schmutzig state any
empty leer state openable
fresh frisch state food
sweet süß taste food
warm warm state clothing+food
long lang length text
short kurz length text
"""

ADJECTIVES: tuple[Adjective, ...] = tuple(
    Adjective(en, de, frozenset(_ADJ_CLASSES[cls]), group)
    for en, de, group, cls in (line.split() for line in _ADJ_TABLE.strip().splitlines())
)
ADJS_BY_CAT: dict[str, tuple[Adjective, ...]] = {
    c: tuple(a for a in ADJECTIVES if c in a.cats) for c in CATEGORIES
}

# Person index used for conjugation: 0 ich, 1 du, 2 er/sie/es, 3 wir, 4 ihr, 5 sie (plural).
# (english nominative, english object, german nominative, accusative, dative, person)
PRONOUNS: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("I", "me", "ich", "mich", "mir", 0),
    ("you", "you", "du", "dich", "dir", 1),
    ("he", "him", "er", "ihn", "ihm", 2),
    ("she", "her", "sie", "sie", "ihr", 2),
    ("we", "us", "wir", "uns", "uns", 3),
    ("you all", "you all", "ihr", "euch", "euch", 4),
    ("they", "them", "sie", "sie", "ihnen", 5),
)
SUBJECT_PRONOUNS = tuple(range(len(PRONOUNS)))
OBJECT_PRONOUNS = (0, 1, 2, 3, 4)  # not "you all"/"them": German sie/euch would be ambiguous back


def _present(inf: str, du_er: str | None = None) -> tuple[str, ...]:
    """Regular German present tense (ich, du, er, wir, ihr, sie) with optional irregular du/er forms."""
    stem = inf[:-2] if inf.endswith("en") else inf[:-1]
    # e-insertion: warten → wartest/wartet, öffnen → öffnest/öffnet (but kommen → kommst)
    e = "e" if stem[-1] in "td" or (stem[-1] in "mn" and stem[-2] not in "aeiouäöülrhmn") else ""
    du = stem + ("t" if stem[-1] in "sßzx" else e + "st")
    er = stem + e + "t"
    if du_er:
        du, er = du_er.split()
    return (stem + "e", du, er, inf, stem + e + "t", inf)


AUXILIARIES: dict[str, tuple[str, ...]] = {
    "haben": ("habe", "hast", "hat", "haben", "habt", "haben"),
    "sein": ("bin", "bist", "ist", "sind", "seid", "sind"),
}


@dataclass(frozen=True, slots=True)
class Verb:
    en: str  # base form: "see", "get up", "look" (+ en_prt "for")
    en_s: str  # third person singular present: "sees"
    en_past: str
    de_inf: str  # full infinitive, with a separable prefix: "anrufen"
    de_pres: tuple[str, ...]  # present forms of the verb *without* its separable prefix, by person
    de_pp: str  # past participle, with prefix: "angerufen"
    aux: str = "haben"  # perfect auxiliary: "haben" | "sein"
    prefix: str = ""  # separable prefix: "an" (ruft ... an)
    case: str = ""  # object case: "" (intransitive) | "acc" | "dat"
    objs: tuple[str, ...] = ()  # noun categories allowed as object
    en_prt: str = ""  # english particle / preposition after the verb: "up", "for"
    en_prt_mode: str = ""  # "prep": before any object; "part": before a noun, after a pronoun; "after"
    human: bool = False  # subject must be a person

    @property
    def transitive(self) -> bool:
        return bool(self.case)


def _verb(
    en: str,
    de_inf: str,
    de_pp: str,
    *,
    du_er: str | None = None,
    forms: str | None = None,
    aux: str = "haben",
    prefix: str = "",
    case: str = "",
    objs: tuple[str, ...] = (),
    prt: str = "",
    mode: str = "",
    human: bool = False,
) -> Verb:
    base, s, past = en.split("|")
    stem_inf = de_inf[len(prefix) :]
    pres = tuple(forms.split()) if forms else _present(stem_inf, du_er)
    return Verb(base, s, past, de_inf, pres, de_pp, aux, prefix, case, objs, prt, mode, human)


_ALL = CATEGORIES
_AN = ANIMATE
_CON = CONCRETE
_T = {"case": "acc"}

# fmt: off
TRANSITIVE_VERBS: tuple[Verb, ...] = (
    _verb("see|sees|saw", "sehen", "gesehen", du_er="siehst sieht", objs=_ALL, **_T),
    _verb("find|finds|found", "finden", "gefunden", objs=(*_AN, *_CON), **_T),
    _verb("like|likes|liked", "mögen", "gemocht", forms="mag magst mag mögen mögt mögen", objs=_ALL, **_T),
    _verb("love|loves|loved", "lieben", "geliebt", objs=(*_AN, "food"), **_T),
    _verb("eat|eats|ate", "essen", "gegessen", du_er="isst isst", objs=("food",), **_T),
    _verb("read|reads|read", "lesen", "gelesen", du_er="liest liest", objs=("text",), human=True, **_T),
    _verb("write|writes|wrote", "schreiben", "geschrieben", objs=("text",), human=True, **_T),
    _verb("buy|buys|bought", "kaufen", "gekauft", objs=_CON, human=True, **_T),
    _verb("carry|carries|carried", "tragen", "getragen", du_er="trägst trägt", objs=_CON, **_T),
    _verb("hold|holds|held", "halten", "gehalten", du_er="hältst hält", objs=("animal", *_CON), **_T),
    _verb("need|needs|needed", "brauchen", "gebraucht", objs=("person", *_CON), **_T),
    _verb("visit|visits|visited", "besuchen", "besucht", objs=("person", "place"), **_T),
    _verb("paint|paints|painted", "malen", "gemalt", objs=(*_AN, "food", "object", "place"), human=True,
          **_T),
    _verb("wash|washes|washed", "waschen", "gewaschen", du_er="wäschst wäscht",
          objs=(*_AN, "clothing", "object"), **_T),
    _verb("look|looks|looked", "suchen", "gesucht", objs=(*_AN, "text", "clothing", "object"),
          prt="for", mode="prep", **_T),
    _verb("cook|cooks|cooked", "kochen", "gekocht", objs=("food",), human=True, **_T),
    _verb("throw|throws|threw", "werfen", "geworfen", du_er="wirfst wirft", objs=("food", "object"), **_T),
    _verb("catch|catches|caught", "fangen", "gefangen", du_er="fängst fängt", objs=("animal", "object"), **_T),
    _verb("bring|brings|brought", "bringen", "gebracht", objs=("food", "text", "clothing", "object"), **_T),
    _verb("take|takes|took", "nehmen", "genommen", du_er="nimmst nimmt",
          objs=("food", "text", "clothing", "object"), **_T),
    _verb("open|opens|opened", "öffnen", "geöffnet", objs=("openable",), **_T),
    _verb("close|closes|closed", "schließen", "geschlossen", objs=("openable",), **_T),
    _verb("hear|hears|heard", "hören", "gehört", objs=(*_AN, "device"), **_T),
    _verb("help|helps|helped", "helfen", "geholfen", du_er="hilfst hilft", case="dat", objs=_AN),
    _verb("follow|follows|followed", "folgen", "gefolgt", aux="sein", case="dat", objs=_AN),
    # separable verbs: the particle goes to the end of a main clause
    _verb("call|calls|called", "anrufen", "angerufen", prefix="an", objs=("person",), human=True, **_T),
    _verb("invite|invites|invited", "einladen", "eingeladen", prefix="ein", du_er="lädst lädt",
          objs=("person",), human=True, **_T),
    _verb("look|looks|looked", "ansehen", "angesehen", prefix="an", du_er="siehst sieht", objs=_ALL,
          prt="at", mode="prep", **_T),
    _verb("pick|picks|picked", "abholen", "abgeholt", prefix="ab", objs=_AN, prt="up", mode="part",
          human=True, **_T),
    _verb("switch|switches|switched", "einschalten", "eingeschaltet", prefix="ein", objs=("device",),
          prt="on", mode="part", human=True, **_T),
    _verb("switch|switches|switched", "ausschalten", "ausgeschaltet", prefix="aus", objs=("device",),
          prt="off", mode="part", human=True, **_T),
    _verb("take|takes|took", "mitnehmen", "mitgenommen", prefix="mit", du_er="nimmst nimmt",
          objs=(*_AN, *_CON), prt="along", mode="after", human=True, **_T),
    _verb("bring|brings|brought", "zurückbringen", "zurückgebracht", prefix="zurück",
          objs=("text", "clothing", "object"), prt="back", mode="after", human=True, **_T),
    _verb("put|puts|put", "anziehen", "angezogen", prefix="an", objs=("clothing",), prt="on", mode="part",
          human=True, **_T),
    _verb("take|takes|took", "ausziehen", "ausgezogen", prefix="aus", objs=("clothing",), prt="off",
          mode="part", human=True, **_T),
)

INTRANSITIVE_VERBS: tuple[Verb, ...] = (
    _verb("sleep|sleeps|slept", "schlafen", "geschlafen", du_er="schläfst schläft"),
    _verb("run|runs|ran", "laufen", "gelaufen", du_er="läufst läuft", aux="sein"),
    _verb("swim|swims|swam", "schwimmen", "geschwommen", aux="sein"),
    _verb("laugh|laughs|laughed", "lachen", "gelacht"),
    _verb("sing|sings|sang", "singen", "gesungen"),
    _verb("wait|waits|waited", "warten", "gewartet"),
    _verb("work|works|worked", "arbeiten", "gearbeitet", human=True),
    _verb("play|plays|played", "spielen", "gespielt"),
    _verb("dance|dances|danced", "tanzen", "getanzt"),
    _verb("cry|cries|cried", "weinen", "geweint"),
    _verb("sit|sits|sat", "sitzen", "gesessen"),
    _verb("jump|jumps|jumped", "springen", "gesprungen", aux="sein"),
    _verb("get up|gets up|got up", "aufstehen", "aufgestanden", prefix="auf", aux="sein"),
    _verb("fall asleep|falls asleep|fell asleep", "einschlafen", "eingeschlafen", prefix="ein",
          du_er="schläfst schläft", aux="sein"),
    _verb("wake up|wakes up|woke up", "aufwachen", "aufgewacht", prefix="auf", aux="sein"),
    _verb("come back|comes back|came back", "zurückkommen", "zurückgekommen", prefix="zurück", aux="sein"),
    _verb("arrive|arrives|arrived", "ankommen", "angekommen", prefix="an", aux="sein"),
    _verb("leave|leaves|left", "abfahren", "abgefahren", prefix="ab", du_er="fährst fährt", aux="sein"),
    _verb("go out|goes out|went out", "ausgehen", "ausgegangen", prefix="aus", aux="sein", human=True),
    _verb("join in|joins in|joined in", "mitspielen", "mitgespielt", prefix="mit"),
)
# fmt: on

# Verbs taking a "that"-clause (dass + verb-final clause).
SAYING_VERBS: tuple[Verb, ...] = (
    _verb("know|knows|knew", "wissen", "gewusst", forms="weiß weißt weiß wissen wisst wissen"),
    _verb("think|thinks|thought", "glauben", "geglaubt"),
    _verb("say|says|said", "sagen", "gesagt"),
    _verb("hope|hopes|hoped", "hoffen", "gehofft"),
    _verb("hear|hears|heard", "hören", "gehört"),
)


@dataclass(frozen=True, slots=True)
class Modal:
    en: str  # "can", "want to"
    en_s: str  # "can", "wants to"
    en_inverts: bool  # "Can the dog ...?" (True) vs "Does the dog want to ...?" (False)
    de_pres: tuple[str, ...]


MODALS: tuple[Modal, ...] = (
    Modal("can", "can", True, ("kann", "kannst", "kann", "können", "könnt", "können")),
    Modal("must", "must", True, ("muss", "musst", "muss", "müssen", "müsst", "müssen")),
    Modal("want to", "wants to", False, ("will", "willst", "will", "wollen", "wollt", "wollen")),
)

# Fronted time adverbs trigger verb-second inversion: "Heute sieht der Hund ...". (english, german)
ADVERBS: dict[str, tuple[tuple[str, str], ...]] = {
    "pres": (
        ("today", "heute"),
        ("now", "jetzt"),
        ("often", "oft"),
        ("every day", "jeden Tag"),
        ("in the morning", "am Morgen"),
        ("in the evening", "am Abend"),
        ("sometimes", "manchmal"),
        ("on Sunday", "am Sonntag"),
    ),
    "past": (
        ("yesterday", "gestern"),
        ("last week", "letzte Woche"),
        ("this morning", "heute Morgen"),
        ("yesterday evening", "gestern Abend"),
        ("on Sunday", "am Sonntag"),
    ),
    "modal": (("today", "heute"), ("now", "jetzt"), ("tomorrow", "morgen"), ("on Sunday", "am Sonntag")),
}

# Subordinating conjunctions (english, german present, german past): all send the verb to the end.
CONJUNCTIONS: tuple[tuple[str, str, str], ...] = (
    ("because", "weil", "weil"),
    ("although", "obwohl", "obwohl"),
    ("while", "während", "während"),
    ("before", "bevor", "bevor"),
    ("when", "wenn", "als"),
)

# Prepositions: (english, german, case, allowed noun categories)
PREPOSITIONS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("with", "mit", "dat", (*ANIMATE, "object")),
    ("in", "in", "dat", ("place",)),
    ("next to", "neben", "dat", (*ANIMATE, "object", "openable")),
    ("for", "für", "acc", ANIMATE),
    ("without", "ohne", "acc", (*ANIMATE, "clothing", "object")),
)

# German determiners and adjective endings, indexed [case][gender or "p" for plural].
DEFINITE = {
    "nom": {"m": "der", "f": "die", "n": "das", "p": "die"},
    "acc": {"m": "den", "f": "die", "n": "das", "p": "die"},
    "dat": {"m": "dem", "f": "der", "n": "dem", "p": "den"},
}
INDEFINITE = {
    "nom": {"m": "ein", "f": "eine", "n": "ein"},
    "acc": {"m": "einen", "f": "eine", "n": "ein"},
    "dat": {"m": "einem", "f": "einer", "n": "einem"},
}
RELATIVE = {
    "nom": {"m": "der", "f": "die", "n": "das", "p": "die"},
    "acc": {"m": "den", "f": "die", "n": "das", "p": "die"},
    "dat": {"m": "dem", "f": "der", "n": "dem", "p": "denen"},
}
ADJ_ENDINGS = {
    # after der/die/das (weak declension)
    "weak": {
        "nom": {"m": "e", "f": "e", "n": "e", "p": "en"},
        "acc": {"m": "en", "f": "e", "n": "e", "p": "en"},
        "dat": {"m": "en", "f": "en", "n": "en", "p": "en"},
    },
    # after ein/eine (mixed declension)
    "mixed": {
        "nom": {"m": "er", "f": "e", "n": "es"},
        "acc": {"m": "en", "f": "e", "n": "es"},
        "dat": {"m": "en", "f": "en", "n": "en"},
    },
    # no article (plural only here: "große Hunde", "mit großen Hunden")
    "strong": {"nom": {"p": "e"}, "acc": {"p": "e"}, "dat": {"p": "en"}},
}

# --------------------------------------------------------------------------------------------------
# Sentence structure
# --------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class NP:
    """A noun phrase: either a pronoun (index into PRONOUNS) or a noun with determiner and adjectives."""

    noun: Noun | None = None
    pron: int | None = None
    definite: bool = True
    plural: bool = False
    adjs: tuple[Adjective, ...] = ()
    rel: Clause | None = None  # relative clause; its subject or object is None (the gap)

    @property
    def person(self) -> int:
        if self.pron is not None:
            return PRONOUNS[self.pron][5]
        return 5 if self.plural else 2


@dataclass(slots=True)
class PP:
    prep: tuple[str, str, str, tuple[str, ...]]
    np: NP


@dataclass(slots=True)
class Clause:
    subj: NP | None  # None: the gap of a subject relative clause
    verb: Verb
    obj: NP | None = None  # None for intransitive verbs, or the gap of an object relative clause
    pp: PP | None = None
    tense: str = "pres"  # "pres" | "past" (English simple past → German perfect) | "modal"
    modal: Modal | None = None


# ---- English --------------------------------------------------------------------------------------


def _en_np(np: NP, case: str) -> list[str]:
    if np.pron is not None:
        p = PRONOUNS[np.pron]
        return [p[0] if case == "nom" else p[1]]
    assert np.noun is not None
    words = [a.en for a in np.adjs] + [np.noun.en_pl if np.plural else np.noun.en]
    if np.definite:
        words.insert(0, "the")
    elif not np.plural:
        words.insert(0, "an" if words[0][0] in "aeiou" else "a")
    if np.rel is not None:
        words += _en_relative(np.rel, np)
    return words


def _en_relative(rel: Clause, head: NP) -> list[str]:
    if rel.subj is None:  # subject relative: "the dog that sees the cat", "the man who sleeps"
        assert head.noun is not None
        return ["who" if head.noun.cat == "person" else "that", *_en_clause(rel, head=head)]
    return ["that", *_en_clause(rel, head=head)]  # object relative: "the ball that the dog finds"


def _en_clause(c: Clause, *, question: bool = False, head: NP | None = None) -> list[str]:
    subj = c.subj if c.subj is not None else head
    assert subj is not None
    s3 = subj.person == 2
    subj_words = _en_np(c.subj, "nom") if c.subj is not None else []
    v = c.verb
    # object and particle: "looks for the dog", "picks up the child" / "picks him up", "takes the dog along"
    tail: list[str] = []
    if v.transitive:
        if c.obj is None:  # object gap in a relative clause: "the child that the man picks up"
            tail = [v.en_prt] if v.en_prt else []
        else:
            obj = _en_np(c.obj, "obj")
            if not v.en_prt:
                tail = obj
            elif v.en_prt_mode == "after" or (v.en_prt_mode == "part" and c.obj.pron is not None):
                tail = [*obj, v.en_prt]
            else:
                tail = [v.en_prt, *obj]
    if c.pp is not None:
        tail += [c.pp.prep[0], *_en_np(c.pp.np, "obj")]
    if question:
        if c.tense == "pres":
            return ["does" if s3 else "do", *subj_words, v.en, *tail]
        if c.tense == "past":
            return ["did", *subj_words, v.en, *tail]
        assert c.modal is not None
        if c.modal.en_inverts:
            return [c.modal.en, *subj_words, v.en, *tail]
        return ["does" if s3 else "do", *subj_words, c.modal.en, v.en, *tail]
    if c.tense == "pres":
        return [*subj_words, v.en_s if s3 else v.en, *tail]
    if c.tense == "past":
        return [*subj_words, v.en_past, *tail]
    assert c.modal is not None
    return [*subj_words, c.modal.en_s if s3 else c.modal.en, v.en, *tail]


# ---- German ---------------------------------------------------------------------------------------


def _de_np(np: NP, case: str) -> list[str]:
    if np.pron is not None:
        p = PRONOUNS[np.pron]
        return [{"nom": p[2], "acc": p[3], "dat": p[4]}[case]]
    n = np.noun
    assert n is not None
    g = "p" if np.plural else n.gender
    if np.definite:
        words = [DEFINITE[case][g]]
        ending = ADJ_ENDINGS["weak"][case][g]
    elif np.plural:
        words = []
        ending = ADJ_ENDINGS["strong"][case][g]
    else:
        words = [INDEFINITE[case][g]]
        ending = ADJ_ENDINGS["mixed"][case][g]
    words += [a.de + ending for a in np.adjs]
    if np.plural:
        words.append(n.de_pl_dat if case == "dat" else n.de_pl)
    else:
        words.append(n.de if case == "nom" else n.de_oblique)
    if np.rel is not None:
        words += [",", *_de_relative(np.rel, np), ","]
    return words


def _de_relative(rel: Clause, head: NP) -> list[str]:
    assert head.noun is not None
    g = "p" if head.plural else head.noun.gender
    case = "nom" if rel.subj is None else rel.verb.case
    return _de_clause(rel, "sub", lead=[RELATIVE[case][g]], head=head)


def _de_pp(pp: PP) -> list[str]:
    _en, de, case, _ = pp.prep
    words = _de_np(pp.np, case)
    if de == "in" and words[0] == "dem":  # in dem → im
        return ["im", *words[1:]]
    return [de, *words]


def _de_clause(c: Clause, order: str, *, lead: list[str] | None = None, head: NP | None = None) -> list[str]:
    """German clause. ``order``: "main" (verb second; ``lead`` fills the first position if given),
    "question" (verb first) or "sub" (verb last; ``lead`` is the conjunction or relative pronoun)."""
    subj = c.subj if c.subj is not None else head
    assert subj is not None
    person = subj.person
    v = c.verb
    if c.tense == "pres":
        fin = v.de_pres[person]
        right = [v.prefix] if v.prefix else []  # ruft ... an
        right_sub = [v.prefix + fin]  # ... anruft
    elif c.tense == "past":
        fin = AUXILIARIES[v.aux][person]
        right = [v.de_pp]  # hat ... angerufen
        right_sub = [v.de_pp, fin]  # ... angerufen hat
    else:
        assert c.modal is not None
        fin = c.modal.de_pres[person]
        right = [v.de_inf]  # will ... anrufen
        right_sub = [v.de_inf, fin]  # ... anrufen will
    subj_w = _de_np(c.subj, "nom") if c.subj is not None else []
    obj_w = _de_np(c.obj, v.case) if c.obj is not None else []
    pp_w = _de_pp(c.pp) if c.pp is not None else []
    if order == "main" and lead is None:
        return [*subj_w, fin, *obj_w, *pp_w, *right]
    # Middle field: an unstressed pronoun object comes before a full noun subject ("Heute sieht ihn der Hund").
    obj_first = c.obj is not None and c.obj.pron is not None and c.subj is not None and c.subj.pron is None
    middle = [*obj_w, *subj_w, *pp_w] if obj_first else [*subj_w, *obj_w, *pp_w]
    if order == "main":
        assert lead is not None
        return [*lead, fin, *middle, *right]
    if order == "question":
        return [fin, *middle, *right]
    if order == "sub":
        return [*(lead or []), *middle, *right_sub]
    raise ValueError(f"unknown clause order {order!r}")


def detokenize(words: list[str], final: str) -> str:
    """Join words, attaching commas, collapsing doubled commas and capitalising the first letter."""
    s = " ".join(words).replace(" ,", ",").replace(",,", ",").rstrip(",")
    return s[:1].upper() + s[1:] + final


def render(c: Clause) -> tuple[str, str]:
    """One declarative main clause as an (English, German) pair, e.g. for tests and docs."""
    return detokenize(_en_clause(c), "."), detokenize(_de_clause(c, "main"), ".")


def render_that(subj: NP, verb: Verb, sub: Clause, tense: str = "pres") -> tuple[str, str]:
    """``<subj> <verb> that <sub>`` → ``<subj> <verb>, dass <sub verb-final>``."""
    m = Clause(subj, verb, tense=tense)
    en = [*_en_clause(m), "that", *_en_clause(sub)]
    de = [*_de_clause(m, "main"), ",", *_de_clause(sub, "sub", lead=["dass"])]
    return detokenize(en, "."), detokenize(de, ".")


# --------------------------------------------------------------------------------------------------
# Random generation
# --------------------------------------------------------------------------------------------------


def _object_pronouns(subj_person: int) -> tuple[int, ...]:
    """Object pronouns that do not overlap a 1st/2nd person subject (no "we see me", "you see you")."""
    group = {0: 1, 3: 1, 1: 2, 4: 2}.get(subj_person)
    if group is None:
        return OBJECT_PRONOUNS
    return tuple(p for p in OBJECT_PRONOUNS if {0: 1, 3: 1, 1: 2, 4: 2}.get(PRONOUNS[p][5]) != group)


# verbs that can take a noun of each category as object / as subject
_OBJECT_VERBS = {c: tuple(v for v in TRANSITIVE_VERBS if c in v.objs) for c in CATEGORIES}
_SUBJECT_VERBS = {
    c: tuple(v for v in TRANSITIVE_VERBS + INTRANSITIVE_VERBS if not v.human or c == "person")
    for c in ANIMATE
}


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def noun_phrase(self, cats: tuple[str, ...], *, plural_p: float = 0.25) -> NP:
        r = self.rng
        noun = r.choice(NOUNS_BY_CAT[r.choice(cats)])
        plural = r.random() < plural_p
        definite = r.random() < 0.65
        adjs: tuple[Adjective, ...] = ()
        x = r.random()
        if x < 0.4:
            pool = ADJS_BY_CAT[noun.cat]
            a = r.choice(pool)
            adjs = (a,)
            if x < 0.08:
                b = r.choice(pool)
                if b.group != a.group:
                    adjs = (a, b)
        return NP(noun, None, definite, plural, adjs)

    def clause(self, *, rel_p: float = 0.0, modal_ok: bool = True) -> Clause:
        r = self.rng
        verb = r.choice(TRANSITIVE_VERBS) if r.random() < 0.62 else r.choice(INTRANSITIVE_VERBS)
        subj_cats = ("person",) if verb.human else ANIMATE
        subj = NP(pron=r.choice(SUBJECT_PRONOUNS)) if r.random() < 0.3 else self.noun_phrase(subj_cats)
        obj = None
        if verb.transitive:
            if "person" in verb.objs and r.random() < 0.2:
                obj = NP(pron=r.choice(_object_pronouns(subj.person)))
            else:
                obj = self.noun_phrase(verb.objs)
        pp = None
        if r.random() < 0.22:
            prep = r.choice(PREPOSITIONS)
            if prep[0] != "in" and "person" in prep[3] and r.random() < 0.15:
                pp = PP(prep, NP(pron=r.choice(_object_pronouns(subj.person))))
            else:
                pp = PP(prep, self.noun_phrase(prep[3], plural_p=0.15 if prep[0] != "in" else 0.0))
        x = r.random()
        tense = "pres" if x < 0.45 else "past" if x < 0.8 or not modal_ok else "modal"
        # English "read"/"put on": the past equals the base form, so only "he read" is unambiguous.
        if tense == "past" and verb.en_past == verb.en and subj.person != 2:
            tense = "pres"
        modal = r.choice(MODALS) if tense == "modal" else None
        c = Clause(subj, verb, obj, pp, tense, modal)
        if rel_p and r.random() < rel_p:
            host = obj if (obj is not None and obj.pron is None and r.random() < 0.5) else subj
            if host.pron is None:
                host.rel = self.relative(host)
        return c

    def relative(self, head: NP) -> Clause | None:
        r = self.rng
        assert head.noun is not None
        cat = head.noun.cat
        obj_verbs = _OBJECT_VERBS[cat]
        if cat in ANIMATE and (not obj_verbs or r.random() < 0.6):
            # subject gap: "the dog that sees the cat" / "der Hund, der die Katze sieht"
            verb = r.choice(_SUBJECT_VERBS[cat])
            obj = self.noun_phrase(verb.objs) if verb.transitive else None
            tense = "pres" if r.random() < 0.6 or (verb.en_past == verb.en and head.plural) else "past"
            return Clause(None, verb, obj, None, tense)
        if not obj_verbs:
            return None
        # object gap: "the ball that the dog finds" / "der Ball, den der Hund findet"
        verb = r.choice(obj_verbs)
        subj_cats = ("person",) if verb.human else ANIMATE
        subj = NP(pron=r.choice(SUBJECT_PRONOUNS)) if r.random() < 0.25 else self.noun_phrase(subj_cats)
        tense = "pres" if r.random() < 0.6 or (verb.en_past == verb.en and subj.person != 2) else "past"
        return Clause(subj, verb, None, None, tense)

    def sentence(self) -> tuple[str, str]:
        r = self.rng
        x = r.random()
        if x < 0.32:  # main clause, possibly with a fronted time adverb (V2 inversion)
            c = self.clause(rel_p=0.2)
            if r.random() < 0.3:
                adv_en, adv_de = r.choice(ADVERBS[c.tense])
                return (
                    detokenize([adv_en, *_en_clause(c)], "."),
                    detokenize(_de_clause(c, "main", lead=[adv_de]), "."),
                )
            return detokenize(_en_clause(c), "."), detokenize(_de_clause(c, "main"), ".")
        if x < 0.42:  # yes/no question (verb first)
            c = self.clause(rel_p=0.1)
            return detokenize(_en_clause(c, question=True), "?"), detokenize(_de_clause(c, "question"), "?")
        if x < 0.64:  # "X says that ..." → "X sagt, dass ... <verb>"
            subj = NP(pron=r.choice(SUBJECT_PRONOUNS)) if r.random() < 0.5 else self.noun_phrase(("person",))
            verb = r.choice(SAYING_VERBS)
            tense = "pres" if r.random() < 0.6 else "past"
            if verb.en_past == verb.en and subj.person != 2:
                tense = "pres"
            return render_that(subj, verb, self.clause(), tense)
        main, sub = self.clause(), self.clause()
        conj_en, conj_de_pres, conj_de_past = r.choice(CONJUNCTIONS)
        conj_de = conj_de_past if sub.tense == "past" else conj_de_pres
        sub_de = _de_clause(sub, "sub", lead=[conj_de])
        if x < 0.82:  # main clause first: "..., weil ... <verb>"
            en = [*_en_clause(main), conj_en, *_en_clause(sub)]
            de = [*_de_clause(main, "main"), ",", *sub_de]
        else:  # subordinate clause first, then the main verb: "Weil ..., schläft der Hund."
            en = [conj_en, *_en_clause(sub), ",", *_en_clause(main)]
            de = _de_clause(main, "main", lead=[*sub_de, ","])
        return detokenize(en, "."), detokenize(de, ".")


SPLITS = ("train", "valid", "test")


def generate_corpus(
    n_train: int = 40_000, n_valid: int = 1_000, n_test: int = 1_000, seed: int = 0
) -> dict[str, tuple[list[str], list[str]]]:
    """Generate the built-in English→German corpus: ``{split: (english_lines, german_lines)}``.

    Deterministic in ``seed``; no sentence (on either side) occurs twice, within or across splits.
    The splits are drawn in the order test, valid, train, so the held-out sets do not depend on
    ``n_train``.
    """
    gen = _Generator(seed)
    seen_en: set[str] = set()
    seen_de: set[str] = set()
    out: dict[str, tuple[list[str], list[str]]] = {}
    for split, n in (("test", n_test), ("valid", n_valid), ("train", n_train)):
        en_lines: list[str] = []
        de_lines: list[str] = []
        attempts = 0
        while len(en_lines) < n:
            attempts += 1
            if attempts > 20 * n + 1000:
                raise RuntimeError(f"could not generate {n} distinct sentences for {split!r}")
            en, de = gen.sentence()
            if en in seen_en or de in seen_de:
                continue
            seen_en.add(en)
            seen_de.add(de)
            en_lines.append(en)
            de_lines.append(de)
        out[split] = (en_lines, de_lines)
    return {s: out[s] for s in SPLITS}


def write_corpus(
    out_dir: str | os.PathLike[str],
    n_train: int = 40_000,
    n_valid: int = 1_000,
    n_test: int = 1_000,
    seed: int = 0,
) -> dict[str, tuple[Path, Path]]:
    """Write ``{train,valid,test}.{en,de}`` (UTF-8, one sentence a line) and return their paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, tuple[Path, Path]] = {}
    for split, (en, de) in generate_corpus(n_train, n_valid, n_test, seed).items():
        pair = (out / f"{split}.en", out / f"{split}.de")
        for path, lines in zip(pair, (en, de), strict=True):
            path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
        paths[split] = pair
    return paths
