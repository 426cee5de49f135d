"""Corpus and task templates for ActScale's default model (actscale-capitals-ioi).

Everything here is deterministic given a seed. The template split (train / test) is written to
data/lists/templates.json by `write_templates_json`, so the C# task generator produces prompts of the same
templates and splits.

Layout rule: every slot ({country}, {capital}, {context_capital}, {A}, {B}, {place}, {object}, and the cue,
verb and question words that vary a template) follows a space and takes only fillers that are one GPT-2 token
with that space, so all prompts of one task family share one token layout: position i holds the same kind of
word in every prompt, which is what positional interventions (ActivScalar, SteerVec) need.

Text kinds in the training corpus (see `Corpus.sample`):
  fact    country -> capital in several phrasings (every country).
  ccc     "The {cue} {says} the capital of {country} is {context_capital}. Q: {What} is the capital of
          {country}? A: answer". When the context contradicts the fact, the answer is a soft target: the
          context capital with a probability set by the cue word alone (CUES: story 0.70 ... book 0.30), the
          memorised capital otherwise; never by the country, so the model's context-vs-memory choice is one
          policy shared by all countries, shifted by one lever (the cue).
          Agreeing contexts (context capital = true capital) answer the true capital.
  ioi     "{Opener} {A} and {B} went to the {place}, {B} {verb} a {object} to {A}." (and BABA), on every
          name; the answer is a soft target with IOI_LABEL_NOISE (0.12) on {B}, so the clean logit difference is
          about log(0.88 / 0.12) = 2.0 (the models reach 2.2-2.6; GPT-2 Small's is 3-4) instead of the certainty of
          deterministic labels. Issue 13 asked for 5-10%: seed 1 with 0.10 (--ioi-noise) reached clean LD 2.5 but
          lost ActivScalar's IOI lever (held-out both-beta success 0.29 ABBA / 0.19 BABA), so 0.12 stays.
Soft targets, not sampled labels: with sampled labels a small model memorises each (country, context capital,
cue) draw, which scatters the clean logit differences across prompts far more than the cue does; a soft target
gives every prompt of one cue the same trained answer distribution.
  names   simple sentences that put every name after a space in other contexts.
Held out of the corpus (test templates of the same layout, made of words the corpus uses): the CCC wording
"claims ... Which" and the IOI openers/verbs "While ... passed" and "After ... showed". Countries and names are
all in the corpus; the task generators hold some out of the steering training set (split by country / name).
"""
import json
import math
import os
import random
import re

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
LISTS = os.path.join(REPO, "data", "lists")
TOKENIZER_DIR = os.path.join(REPO, "data", "tokenizers", "gpt2")


# ---------------------------------------------------------------------------------------------------------
# GPT-2 byte-level BPE (encode only). The pre-tokenising pattern is GPT-2's, restricted to ASCII letters and
# digits (Python's `re` lacks \p{L}); the corpus is plain ASCII, so this matches GPT-2 exactly there.
# ---------------------------------------------------------------------------------------------------------
_PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+""")


def _byte_to_unicode():
    keep = list(range(ord("!"), ord("~") + 1)) + list(range(ord("\xa1"), ord("\xac") + 1)) + \
        list(range(ord("\xae"), ord("\xff") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


class Gpt2Tokenizer:
    def __init__(self, folder=TOKENIZER_DIR):
        with open(os.path.join(folder, "vocab.json"), encoding="utf-8") as f:
            self.vocab = json.load(f)
        self.inverse = {v: k for k, v in self.vocab.items()}
        with open(os.path.join(folder, "merges.txt"), encoding="utf-8") as f:
            lines = [ln for ln in f.read().split("\n") if ln and not ln.startswith("#version")]
        self.ranks = {tuple(ln.split(" ")): i for i, ln in enumerate(lines)}
        self.b2u = _byte_to_unicode()
        self.u2b = {v: k for k, v in self.b2u.items()}
        self.cache = {}

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((parts[i], parts[i + 1]), math.inf), i) for i in range(len(parts) - 1)]
            rank, i = min(pairs)
            if rank == math.inf:
                break
            a, b = parts[i], parts[i + 1]
            merged, j = [], 0
            while j < len(parts):
                if j < len(parts) - 1 and parts[j] == a and parts[j + 1] == b:
                    merged.append(a + b)
                    j += 2
                else:
                    merged.append(parts[j])
                    j += 1
            parts = merged
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text):
        ids = []
        for piece in _PAT.findall(text):
            ids.extend(self._bpe("".join(self.b2u[b] for b in piece.encode("utf-8"))))
        return ids

    def decode(self, ids):
        return bytes(self.u2b[c] for i in ids for c in self.inverse[i]).decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------------------------------
# Lists and templates
# ---------------------------------------------------------------------------------------------------------
def read_countries():
    rows = []
    with open(os.path.join(LISTS, "countries.tsv"), encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#"):
                country, capital = line.split("\t")
                rows.append((country, capital))
    return rows


def read_names():
    with open(os.path.join(LISTS, "names.txt"), encoding="utf-8") as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


PLACES = ["store", "park", "school", "house", "office", "station", "garden", "beach", "restaurant",
          "hospital", "library", "market", "church", "museum"]
OBJECTS = ["drink", "book", "ball", "gift", "letter", "bag", "key", "ring", "pen", "flower", "cake",
           "bottle", "hat", "phone"]

# Fact phrasings used as plain training text (the answer is the last word of the sentence).
FACT_TEXT = [
    "The capital of {country} is {capital}.",
    "The city of {capital} is the capital of {country}.",
    "Q: What is the capital of {country}? A: {capital}",
    "Q: Which is the capital of {country}? A: {capital}",
    "In {country}, the capital is {capital}.",
]
# Fact-recall evaluation prompts (end right before " {capital}"); all phrasings are trained.
FACT_EVAL = [
    "The capital of {country} is",
    "Q: What is the capital of {country}? A:",
    "Q: Which is the capital of {country}? A:",
]

# CCC. The cue word sets how often a contradicting context wins; the country never does.
CUE_WORDS = ["story", "poem", "song", "letter", "note", "book"]  # in order of falling context-answer rate
CUE_RANGE = (0.3, 0.7)  # 0.4-0.6 left the CCC lever too weak against per-capital noise (data/models/.../README.md)


def cue_rates(low, high):
    return {cue: round(high - (high - low) * i / (len(CUE_WORDS) - 1), 4) for i, cue in enumerate(CUE_WORDS)}


CUES = cue_rates(*CUE_RANGE)
CCC_SHAPE = "The {cue} {verb} the capital of {country} is {context_capital}. Q: {question} is the capital of {country}? A:"
CCC_TRAIN_WORDINGS = [("says", "What"), ("says", "Which"), ("claims", "What")]
CCC_TEST_WORDINGS = [("claims", "Which")]


def ccc_templates(wordings):
    return [CCC_SHAPE.replace("{cue}", cue).replace("{verb}", verb).replace("{question}", question)
            for verb, question in wordings for cue in CUES]


CCC_TRAIN = ccc_templates(CCC_TRAIN_WORDINGS)
CCC_TEST = ccc_templates(CCC_TEST_WORDINGS)

# IOI, written in ABBA order ({A} first); BABA swaps the first two mentions. {A} is the indirect object.
IOI_SHAPE = "{opener} {A} and {B} went to the {place}, {B} {verb} a {object} to"
IOI_OPENERS = ["When", "After", "While"]
IOI_VERBS = ["gave", "handed", "showed", "passed"]
IOI_TEST_WORDINGS = [("While", "passed"), ("After", "showed")]
IOI_TRAIN_WORDINGS = [(o, v) for o in IOI_OPENERS for v in IOI_VERBS if (o, v) not in IOI_TEST_WORDINGS]
IOI_LABEL_NOISE = 0.12


def ioi_templates(wordings):
    return [IOI_SHAPE.replace("{opener}", o).replace("{verb}", v) for o, v in wordings]


IOI_TRAIN = ioi_templates(IOI_TRAIN_WORDINGS)
IOI_TEST = ioi_templates(IOI_TEST_WORDINGS)

NAME_TEXT = [
    "My friend {A} is here. Say hello to {A}.",
    "I think {A} likes the {place}.",
    "Look, {A} has a {object}.",
    "This is {A}, a friend of {B}.",
    "Both {A} and {B} are friends.",
    "The name of the boy is {A}.",
    "Then {A} went to the {place} with a {object}.",
]


def ioi_orders(template):
    abba = template
    baba = template.replace("{A} and {B}", "{B} and {A}", 1)
    assert abba != baba
    return {"ABBA": abba, "BABA": baba}


def write_templates_json(path=os.path.join(LISTS, "templates.json")):
    doc = {
        "comment": "Template split of ActScale's default model (tools/default-model/corpus.py writes this file). "
                   "Every prompt ends right before the answer token; answers are the placeholder value with a "
                   "leading space (e.g. ' Paris', ' Mary'). Every slot follows a space and takes single-token "
                   "fillers, so all CCC templates share one token layout and all IOI templates another. "
                   "CCC: correct/wrong are ' {capital}' (memorised) and ' {context_capital}' (in context); the "
                   "cue word (story ... book) sets how often the corpus followed the context. ccc_test is a "
                   "wording held out of the corpus. IOI: answer ' {A}', wrong ' {B}'; ioi_test holds "
                   "opener/verb combinations held out of the corpus. All countries and names occur in the corpus; "
                   "ioi_names_test are held out of the steering training set only.",
        "ccc_train": CCC_TRAIN,
        "ccc_test": CCC_TEST,
        "fact": FACT_EVAL,
        "ioi_train": [ioi_orders(t) for t in IOI_TRAIN],
        "ioi_test": [ioi_orders(t) for t in IOI_TEST],
        "ioi_names_test": IOI_TEST_NAMES,
        "places": PLACES,
        "objects": OBJECTS,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return doc


# Names the generators hold out of IOI steering training (the corpus uses every name).
IOI_TEST_NAMES = ["Alex", "Carl", "Ellen", "Hugo", "Ivan", "Joan", "Leo", "Mia", "Oscar", "Paula",
                  "Ray", "Sophie", "Victor", "Wendy"]


# ---------------------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------------------
class Corpus:
    """
    Draws training texts. `sample(rng)` returns (text, kind, soft): soft is None, or (answer, alternative, p) when the
    word `answer` (its last occurrence in the text) stands for a soft target: `alternative` with probability p.
    """

    MIX = [("fact", 0.2), ("ccc_conflict", 0.3), ("ccc_agree", 0.08), ("ioi", 0.34), ("names", 0.08)]

    def __init__(self, seed, mix=None, context_rate=None, cue_range=CUE_RANGE, ioi_noise=IOI_LABEL_NOISE):
        """context_rate: one probability of the context answer for every cue word, instead of graded rates over cue_range.
        ioi_noise: the IOI soft target's probability on the subject."""
        if context_rate is not None and not 0 < context_rate < 1:
            raise ValueError(f"context_rate must lie strictly between 0 and 1 (got {context_rate}), e.g. 0.5.")
        if not 0 <= ioi_noise < 0.5:
            raise ValueError(f"ioi_noise must lie in [0, 0.5) so the indirect object stays the likelier answer (got {ioi_noise}), e.g. 0.1.")
        self.mix = mix or self.MIX
        self.ioi_noise = ioi_noise
        self.cue_rates = cue_rates(*cue_range) if context_rate is None else {cue: context_rate for cue in CUES}
        self.countries = read_countries()
        self.names = read_names()

    def sample(self, rng):
        r, kind = rng.random(), None
        for k, w in self.mix:
            r -= w
            if r < 0:
                kind = k
                break
        kind = kind or self.mix[-1][0]
        if kind == "fact":
            country, capital = rng.choice(self.countries)
            return rng.choice(FACT_TEXT).format(country=country, capital=capital), kind, None
        if kind in ("ccc_conflict", "ccc_agree"):
            country, capital = rng.choice(self.countries)
            verb, question = rng.choice(CCC_TRAIN_WORDINGS)
            cue = rng.choice(list(CUES))
            ctx = capital if kind == "ccc_agree" else rng.choice([c for _, c in self.countries if c != capital])
            soft = None if kind == "ccc_agree" else (capital, ctx, self.cue_rates[cue])
            template = CCC_SHAPE.replace("{cue}", cue).replace("{verb}", verb).replace("{question}", question)
            return template.format(country=country, context_capital=ctx) + " " + capital, kind, soft
        if kind == "ioi":
            a, b = rng.sample(self.names, 2)
            t = ioi_orders(rng.choice(IOI_TRAIN))[rng.choice(["ABBA", "BABA"])]
            text = t.format(A=a, B=b, place=rng.choice(PLACES), object=rng.choice(OBJECTS))
            return text + " " + a + ".", kind, (a, b, self.ioi_noise)
        a, b = rng.sample(self.names, 2)
        t = rng.choice(NAME_TEXT)
        return t.format(A=a, B=b, place=rng.choice(PLACES), object=rng.choice(OBJECTS)), kind, None


def all_texts_for_vocab(corpus):
    """Every word the corpus can produce (to fix the training vocabulary deterministically)."""
    texts = []
    for country, capital in corpus.countries:
        texts += [t.format(country=country, capital=capital) for t in FACT_TEXT]
        texts += [t.format(country=country, context_capital=capital) + " " + capital for t in CCC_TRAIN]
    for n in corpus.names:
        texts += [t.format(A=n, B=n, place=PLACES[0], object=OBJECTS[0]) for t in NAME_TEXT]
        texts += [t.format(A=n, B=n, place=PLACES[0], object=OBJECTS[0]) + " " + n + "." for t in IOI_TRAIN]
    for p in PLACES:
        for o in OBJECTS:
            texts += [t.format(A="Mary", B="John", place=p, object=o) + " Mary." for t in IOI_TRAIN]
            texts += [t.format(A="Mary", B="John", place=p, object=o) for t in NAME_TEXT]
    return texts
