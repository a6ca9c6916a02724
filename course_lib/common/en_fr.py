"""English-French sentence pairs written for this course (500 by default, up to about 17,000).

The pairs are this course's own work, under the course's licence (Apache-2.0); no corpus was
copied. About sixty everyday phrases are written out below; the rest are made by a small
grammar from a hand-written lexicon: subject + verb + object (the/a, an optional adjective,
before or after the noun as French places it), the same negated (``ne ... pas``, ``pas de``)
and as a question (``est-ce que``), and "the N is ADJ" (agreement in gender). Which
combinations are kept is fixed by a SHA-256 hash, so the list is the same everywhere.

    pairs = en_fr_pairs()     # 500 pairs: [("i see the red car.", "je vois la voiture rouge."), ...]
    pairs = en_fr_pairs(2000) # the same 500 and 1,500 more from the grammar
    python -m course_lib.common.en_fr > en_fr.tsv   # the pairs as a TSV file

French typography puts a space before ``?``. Lower case throughout (the tokenizer folds case).
"""

from __future__ import annotations

import hashlib
import sys
from typing import List, Tuple

PHRASES = [
    ("hello.", "bonjour."), ("good evening.", "bonsoir."), ("good night.", "bonne nuit."),
    ("goodbye.", "au revoir."), ("thank you.", "merci."), ("thank you very much.", "merci beaucoup."),
    ("please.", "s'il vous plaît."), ("you are welcome.", "de rien."), ("excuse me.", "excusez-moi."),
    ("i am sorry.", "je suis désolé."), ("yes.", "oui."), ("no.", "non."),
    ("how are you?", "comment allez-vous ?"), ("i am fine.", "je vais bien."),
    ("i am cold.", "j'ai froid."), ("i am hot.", "j'ai chaud."), ("i am hungry.", "j'ai faim."),
    ("i am thirsty.", "j'ai soif."), ("i am tired.", "je suis fatigué."), ("he is tired.", "il est fatigué."),
    ("she is tired.", "elle est fatiguée."), ("i am happy.", "je suis heureux."),
    ("she is happy.", "elle est heureuse."), ("we are ready.", "nous sommes prêts."),
    ("i am ready.", "je suis prêt."), ("it is late.", "il est tard."), ("it is cold.", "il fait froid."),
    ("it is hot.", "il fait chaud."), ("it is raining.", "il pleut."),
    ("where is the station?", "où est la gare ?"), ("where is the car?", "où est la voiture ?"),
    ("where is the cat?", "où est le chat ?"), ("where are you?", "où es-tu ?"),
    ("what time is it?", "quelle heure est-il ?"), ("i do not know.", "je ne sais pas."),
    ("i understand.", "je comprends."), ("i do not understand.", "je ne comprends pas."),
    ("help me.", "aidez-moi."), ("come here.", "viens ici."), ("wait here.", "attends ici."),
    ("listen.", "écoute."), ("look.", "regarde."), ("let us go.", "allons-y."),
    ("i love you.", "je t'aime."), ("see you tomorrow.", "à demain."), ("see you soon.", "à bientôt."),
    ("good luck.", "bonne chance."), ("happy birthday.", "joyeux anniversaire."),
    ("what is your name?", "comment t'appelles-tu ?"), ("my name is tom.", "je m'appelle tom."),
    ("i live in paris.", "j'habite à paris."), ("i speak french.", "je parle français."),
    ("do you speak english?", "parlez-vous anglais ?"), ("he is a doctor.", "il est médecin."),
    ("the water is cold.", "l'eau est froide."), ("the soup is hot.", "la soupe est chaude."),
    ("the door is open.", "la porte est ouverte."), ("the window is closed.", "la fenêtre est fermée."),
    ("i have two cats.", "j'ai deux chats."), ("he has three dogs.", "il a trois chiens."),
]

#: English subject, French subject, verb form index (0 je, 1 tu, 2 il/elle, 3 nous, 4 ils)
SUBJECTS = [("i", "je", 0), ("you", "tu", 1), ("he", "il", 2), ("she", "elle", 2), ("we", "nous", 3),
            ("they", "ils", 4)]

#: English base form, English 3rd person, French forms (je, tu, il, nous, ils), allowed objects
VERBS = [
    ("see", "sees", ("vois", "vois", "voit", "voyons", "voient"),
     "cat dog house car book letter table chair door window horse girl boy garden train box cup bike"),
    ("have", "has", ("ai", "as", "a", "avons", "ont"), "cat dog house car book key phone pen bag bike garden box cup"),
    ("want", "wants", ("veux", "veux", "veut", "voulons", "veulent"), "car book cat dog phone bike cake apple cup bag house"),
    ("like", "likes", ("aime", "aimes", "aime", "aimons", "aiment"), "cat dog house car book garden cake apple bike train horse"),
    ("buy", "buys", ("achète", "achètes", "achète", "achetons", "achètent"),
     "car book house phone pen bag bike cake apple table chair cup box newspaper"),
    ("read", "reads", ("lis", "lis", "lit", "lisons", "lisent"), "book letter newspaper"),
    ("eat", "eats", ("mange", "manges", "mange", "mangeons", "mangent"), "apple cake banana tomato sandwich"),
    ("open", "opens", ("ouvre", "ouvres", "ouvre", "ouvrons", "ouvrent"), "door window box book letter bag"),
    ("write", "writes", ("écris", "écris", "écrit", "écrivons", "écrivent"), "letter book"),
    ("find", "finds", ("trouve", "trouves", "trouve", "trouvons", "trouvent"), "key phone pen bag cat dog book box"),
    ("take", "takes", ("prends", "prends", "prend", "prenons", "prennent"), "train key book pen bag cup apple"),
]

#: English noun: (French noun, gender); every French noun starts with a consonant (no l', d')
NOUNS = {
    "cat": ("chat", "m"), "dog": ("chien", "m"), "house": ("maison", "f"), "car": ("voiture", "f"),
    "book": ("livre", "m"), "letter": ("lettre", "f"), "table": ("table", "f"), "chair": ("chaise", "f"),
    "door": ("porte", "f"), "window": ("fenêtre", "f"), "horse": ("cheval", "m"), "girl": ("fille", "f"),
    "boy": ("garçon", "m"), "garden": ("jardin", "m"), "train": ("train", "m"), "box": ("boîte", "f"),
    "cup": ("tasse", "f"), "bike": ("vélo", "m"), "key": ("clé", "f"), "phone": ("téléphone", "m"),
    "pen": ("stylo", "m"), "bag": ("sac", "m"), "cake": ("gâteau", "m"), "apple": ("pomme", "f"),
    "newspaper": ("journal", "m"), "banana": ("banane", "f"), "tomato": ("tomate", "f"),
    "sandwich": ("sandwich", "m"),
}

#: English adjective: (masculine, feminine, placed before the noun in French?, nouns it suits)
ADJECTIVES = {
    "big": ("grand", "grande", True, "house car garden dog horse table box bag"),
    "small": ("petit", "petite", True, "cat dog house car book garden box cup bag key bike"),
    "old": ("vieux", "vieille", True, "car house book phone bike bag table chair door train cat dog horse"),
    "new": ("nouveau", "nouvelle", True, "car house book phone bike bag table chair"),
    "good": ("bon", "bonne", True, "cake apple book sandwich"),
    "beautiful": ("beau", "belle", True, "house garden car cat dog horse bike"),
    "red": ("rouge", "rouge", False, "car door bag bike pen box cup chair apple"),
    "black": ("noir", "noire", False, "cat dog car bag pen phone horse chair"),
    "white": ("blanc", "blanche", False, "cat dog house car door cup horse"),
    "green": ("vert", "verte", False, "door bag bike box chair apple"),
    "blue": ("bleu", "bleue", False, "car door bag bike pen box cup chair"),
}

VOWELS = "aeiouéèêâîôûh"


def _hash(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode("utf-8")).digest()[:8], "big")


def _noun_phrase(noun: str, definite: bool, adjective, negated: bool) -> Tuple[str, str]:
    """("the red car", "la voiture rouge"); after a negation the indefinite article becomes "de"."""
    fr_noun, gender = NOUNS[noun]
    en = ("the " if definite else ("an " if (adjective or noun)[0] in "aeiou" else "a ")) + \
        (f"{adjective} " if adjective else "") + noun
    if definite:
        article = "le " if gender == "m" else "la "
    else:
        article = "de " if negated else ("un " if gender == "m" else "une ")
    if adjective is None:
        return en, article + fr_noun
    masculine, feminine, before, _ = ADJECTIVES[adjective]
    adj = masculine if gender == "m" else feminine
    return en, article + (f"{adj} {fr_noun}" if before else f"{fr_noun} {adj}")


def _elide(word: str, following: str) -> str:
    """je/ne/que + a vowel -> j'/n'/qu' (written without the space)."""
    return word[:-1] + "'" if following[0] in VOWELS else word + " "


def _clause(subject, verb, object_phrase: str, negated: bool) -> str:
    fr_subject, form = subject[1], subject[2]
    fr_verb = verb[2][form]
    if negated:
        return f"{fr_subject} {_elide('ne', fr_verb)}{fr_verb} pas {object_phrase}"
    return f"{_elide(fr_subject, fr_verb) if fr_subject == 'je' else fr_subject + ' '}{fr_verb} {object_phrase}"


def generated_pairs() -> List[Tuple[str, str]]:
    """Every pair the grammar can make (thousands), in a fixed order."""
    pairs = []
    for verb in VERBS:
        for noun in verb[3].split():
            adjectives = [None] + [a for a, spec in ADJECTIVES.items() if noun in spec[3].split()]
            for subject in SUBJECTS:
                third = subject[2] == 2
                for adjective in adjectives:
                    for definite in (True, False):
                        for kind in ("statement", "negation", "question"):
                            negated = kind == "negation"
                            en_np, fr_np = _noun_phrase(noun, definite, adjective, negated)
                            if kind == "statement":
                                en = f"{subject[0]} {verb[1] if third else verb[0]} {en_np}."
                                fr = _clause(subject, verb, fr_np, False) + "."
                            elif kind == "negation":
                                en = f"{subject[0]} {'does' if third else 'do'} not {verb[0]} {en_np}."
                                fr = _clause(subject, verb, fr_np, True) + "."
                            else:
                                if subject[0] == "i":
                                    continue
                                en = f"{'does' if third else 'do'} {subject[0]} {verb[0]} {en_np}?"
                                fr = f"est-ce {_elide('que', subject[1])}" + _clause(subject, verb, fr_np, False) + " ?"
                            pairs.append((en, fr))
    for noun, (fr_noun, gender) in NOUNS.items():
        for adjective, (masculine, feminine, _, suits) in ADJECTIVES.items():
            if noun not in suits.split() or adjective == "good":
                continue
            adj = masculine if gender == "m" else feminine
            article = "le" if gender == "m" else "la"
            pairs.append((f"the {noun} is {adjective}.", f"{article} {fr_noun} est {adj}."))
            pairs.append((f"the {noun} is not {adjective}.", f"{article} {fr_noun} n'est pas {adj}."))
    return pairs


def en_fr_pairs(size: int = 500) -> List[Tuple[str, str]]:
    """``size`` pairs (at most): the written phrases, then generated ones chosen by hash, sorted by English."""
    generated = sorted(set(generated_pairs()), key=lambda p: (_hash("en_fr", p[0]), p))
    chosen = list(PHRASES) + generated[:max(0, size - len(PHRASES))]
    return sorted(chosen)


if __name__ == "__main__":  # pragma: no cover
    for en, fr in en_fr_pairs(int(sys.argv[1]) if len(sys.argv) > 1 else 500):
        sys.stdout.write(f"{en}\t{fr}\n")
