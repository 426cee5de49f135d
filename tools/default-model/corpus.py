"""Corpus and task templates for ActScale's default model (actscale-capitals-ioi).

Everything here is deterministic given a seed. The template split (train / test) is written to
data/lists/templates.json by `write_templates_json`, so the C# task generator can mirror it.

Text kinds in the training corpus (see `Corpus.sample`):
  fact    country -> capital in several phrasings, including Q/A ("Q: What is the capital of France? A: Paris")
  ccc     an in-context statement followed by a question (CCC = country-capital conflicts). When the
          statement contradicts the fact, the answer follows the context with probability
          sigmoid(country_bias + template_bias) and the memorised capital otherwise; the biases are fixed
          by the seed, so the trained model's choice is mixed across countries instead of all-or-nothing.
          Non-conflicting statements (context capital = true capital) always answer the true capital.
  ioi     indirect-object sentences (ABBA and BABA), only train names and train templates.
  names   simple sentences that use every name (train and test), so held-out IOI names still have trained
          embeddings (a token that never occurs in the corpus is made unpredictable at export).
Held out for testing: IOI names (`IOI_TEST_NAMES`), IOI templates (`IOI_TEST`), CCC templates (`CCC_TEST`).
Countries cannot be held out (memorised recall needs every fact in training).
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


# IOI names held out of every IOI training sentence (they still occur in the "names" sentences).
IOI_TEST_NAMES = ["Alex", "Carl", "Ellen", "Hugo", "Ivan", "Joan", "Leo", "Mia", "Oscar", "Paula",
                  "Ray", "Sophie", "Victor", "Wendy"]

PLACES = ["store", "park", "school", "house", "office", "station", "garden", "beach", "restaurant",
          "hospital", "library", "market", "church", "museum"]
OBJECTS = ["drink", "book", "ball", "gift", "letter", "bag", "key", "ring", "pen", "flower", "cake",
           "bottle", "hat", "phone"]

# Fact phrasings used as plain training text (the answer is the last word of the sentence).
FACT_TEXT = [
    "The capital of {country} is {capital}.",
    "{capital} is the capital of {country}.",
    "{country}'s capital city is {capital}.",
    "The capital city of {country} is {capital}.",
    "Q: What is the capital of {country}? A: {capital}",
    "Q: Which city is the capital of {country}? A: {capital}",
    "Question: What is the capital city of {country}? Answer: {capital}",
]
# Fact-recall evaluation prompts (end right before " {capital}"); all phrasings are trained.
FACT_EVAL = [
    "The capital of {country} is",
    "Q: What is the capital of {country}? A:",
    "Q: Which city is the capital of {country}? A:",
    "Question: What is the capital city of {country}? Answer:",
]

# CCC: context statement + question. A prompt ends right before the answer token.
CTX = {
    "c1": "The capital of {country} is {context_capital}.",
    "c2": "{context_capital} is the capital of {country}.",
    "c3": "{country}'s capital city is {context_capital}.",
    "c4": "In this story, the capital of {country} is {context_capital}.",
}
QST = {
    "q1": "Q: What is the capital of {country}? A:",
    "q2": "Q: Which city is the capital of {country}? A:",
    "q3": "Question: What is the capital city of {country}? Answer:",
}
CCC_TRAIN_PAIRS = [("c1", "q1"), ("c2", "q1"), ("c1", "q2"), ("c3", "q3"), ("c4", "q2"), ("c2", "q3")]
CCC_TEST_PAIRS = [("c1", "q3"), ("c2", "q2"), ("c3", "q1"), ("c4", "q1")]
CCC_TRAIN = [CTX[c] + " " + QST[q] for c, q in CCC_TRAIN_PAIRS]
CCC_TEST = [CTX[c] + " " + QST[q] for c, q in CCC_TEST_PAIRS]
# Template bias on following the context in training (test templates have none: they are unseen).
CCC_TRAIN_TEMPLATE_BIAS = [0.0, -0.3, 0.2, -0.2, 0.6, 0.1]

# IOI: written in ABBA order; BABA swaps the first mention ("{A} and {B}" -> "{B} and {A}").
# {A} is the indirect object (answer), {B} the subject (wrong answer).
IOI_TRAIN = [
    "When {A} and {B} went to the {place}, {B} gave a {object} to",
    "Then, {A} and {B} went to the {place}. {B} gave a {object} to",
    "When {A} and {B} arrived at the {place}, {B} handed a {object} to",
    "After {A} and {B} went to the {place}, {B} showed a {object} to",
    "Then, {A} and {B} had a lot of fun at the {place}. {B} gave a {object} to",
    "While {A} and {B} were working at the {place}, {B} passed a {object} to",
    "Friends {A} and {B} found a {object} at the {place}. {B} gave it to",
    "When {A} and {B} got a {object} at the {place}, {B} decided to give it to",
    "After the lunch, {A} and {B} went to the {place}. {B} handed a {object} to",
]
IOI_TEST = [
    "After {A} and {B} arrived at the {place}, {B} gave a {object} to",
    "While {A} and {B} were at the {place}, {B} showed a {object} to",
    "Then, {A} and {B} were working at the {place}. {B} passed a {object} to",
]

NAME_TEXT = [
    "My friend {A} is here. Say hello to {A}.",
    "{A} likes the {place}.",
    "{A} has a {object}.",
    "This is {A}. {A} is a friend.",
    "{A} and {B} are friends.",
    "The name of the boy is {A}.",
    "{A} went to the {place} with a {object}.",
]


def ioi_orders(template):
    abba = template
    baba = template.replace("{A} and {B}", "{B} and {A}", 1)
    assert abba != baba
    return {"ABBA": abba, "BABA": baba}


def write_templates_json(path=os.path.join(LISTS, "templates.json")):
    names = read_names()
    doc = {
        "comment": "Template split of ActScale's default model (tools/default-model/corpus.py writes this file). "
                   "Every prompt ends right before the answer token; answers are the placeholder value with a "
                   "leading space (e.g. ' Paris', ' Mary'). CCC: correct/wrong are ' {capital}' (memorised) and "
                   "' {context_capital}' (in context); non-conflicting when context_capital == capital. "
                   "IOI: answer ' {A}' (indirect object), wrong ' {B}' (subject); each template is given in "
                   "ABBA and BABA order. fact: answer ' {capital}'. Countries: data/lists/countries.tsv (all "
                   "in training). Names: data/lists/names.txt minus ioi_names_test = IOI training names.",
        "ccc_train": CCC_TRAIN,
        "ccc_test": CCC_TEST,
        "fact": FACT_EVAL,
        "ioi_train": [ioi_orders(t) for t in IOI_TRAIN],
        "ioi_test": [ioi_orders(t) for t in IOI_TEST],
        "ioi_names_train": [n for n in names if n not in IOI_TEST_NAMES],
        "ioi_names_test": IOI_TEST_NAMES,
        "places": PLACES,
        "objects": OBJECTS,
    }
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")
    return doc


# ---------------------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------------------
def _sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


class Corpus:
    """Draws training texts. `sample(rng)` returns (text, kind); the answer is always the final word."""

    MIX = [("fact", 0.22), ("ccc_conflict", 0.24), ("ccc_agree", 0.08), ("ioi", 0.36), ("names", 0.10)]

    # Phase 2 (short, after the main run): more name sentences, so held-out IOI names are predicted more.
    MIX_PHASE2 = [("fact", 0.15), ("ccc_conflict", 0.18), ("ccc_agree", 0.07), ("ioi", 0.25), ("names", 0.35)]

    def __init__(self, seed, mix=None):
        self.mix = mix or self.MIX
        self.countries = read_countries()
        self.capital = dict(self.countries)
        self.names = read_names()
        self.ioi_names = [n for n in self.names if n not in IOI_TEST_NAMES]
        rng = random.Random(seed)
        # Per-country bias of following the context: evenly spread over [-1.6, 1.6], shuffled by the seed.
        n = len(self.countries)
        spread = [-1.6 + 3.2 * i / (n - 1) for i in range(n)]
        rng.shuffle(spread)
        self.country_bias = {c: b for (c, _), b in zip(self.countries, spread)}

    def p_context(self, country, template_index):
        return _sigmoid(self.country_bias[country] + CCC_TRAIN_TEMPLATE_BIAS[template_index])

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
            return rng.choice(FACT_TEXT).format(country=country, capital=capital), kind
        if kind in ("ccc_conflict", "ccc_agree"):
            country, capital = rng.choice(self.countries)
            ti = rng.randrange(len(CCC_TRAIN))
            if kind == "ccc_agree":
                ctx, answer = capital, capital
            else:
                ctx = rng.choice([c for _, c in self.countries if c != capital])
                answer = ctx if rng.random() < self.p_context(country, ti) else capital
            prompt = CCC_TRAIN[ti].format(country=country, context_capital=ctx)
            return prompt + " " + answer, kind
        if kind == "ioi":
            a, b = rng.sample(self.ioi_names, 2)
            t = ioi_orders(rng.choice(IOI_TRAIN))[rng.choice(["ABBA", "BABA"])]
            text = t.format(A=a, B=b, place=rng.choice(PLACES), object=rng.choice(OBJECTS))
            return text + " " + a + ".", kind
        a, b = rng.sample(self.names, 2)
        t = rng.choice(NAME_TEXT)
        return t.format(A=a, B=b, place=rng.choice(PLACES), object=rng.choice(OBJECTS)), kind


def all_texts_for_vocab(corpus):
    """Every word the corpus can produce (to fix the training vocabulary deterministically)."""
    texts = []
    for country, capital in corpus.countries:
        texts += [t.format(country=country, capital=capital) for t in FACT_TEXT]
        texts += [t.format(country=country, context_capital=capital) for t in CCC_TRAIN]
    for n in corpus.names:
        texts += [t.format(A=n, B=n, place=PLACES[0], object=OBJECTS[0]) for t in NAME_TEXT]
    for p in PLACES:
        for o in OBJECTS:
            texts += [t.format(A="Mary", B="John", place=p, object=o) + " Mary." for t in IOI_TRAIN]
            texts += [t.format(A="Mary", B="John", place=p, object=o) for t in NAME_TEXT]
    return texts
