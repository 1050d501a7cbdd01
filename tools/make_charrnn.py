#!/usr/bin/python3
"""Trains the CharRnn sample model: the lecture notes' character-level language model.

The notes' example ("generación de texto a nivel de caracteres", vocabulary [h, e, l, o], training
sequence "hello") at the scale of a real text: an LSTM reads one character at a time and predicts a
distribution over the next one; at test time characters are sampled one at a time and fed back.

Text (obtained offline, from Debian's package mirror only):
  * source:   the World English Bible (WEB), SWORD module `engWEB2015eb`, module version 426.0
              ("the 2020 stable text edition", generated 2022-12-28), Debian package `sword-text-web`
              (bookworm: 426.0-1), read with `diatheke` (package `diatheke`, SWORD 1.9.0):
                  apt-get install -y diatheke sword-text-web
              The script runs that command itself when the module or diatheke is missing and it runs
              as root (otherwise it says what to install).
  * licence:  public domain, worldwide ("The World English Bible is in the Public Domain. That means
              that it is not copyrighted.", /usr/share/doc/sword-text-web/copyright and the module's
              conf). "World English Bible" is a trademark of eBible.org, who ask that a changed text
              not be called the World English Bible: the corpus below is an excerpt with the
              markup and footnotes removed, and what the model writes is not the WEB.
  * excerpt:  the narrative books Genesis, Exodus, Numbers, Deuteronomy, Joshua, Judges, Ruth,
              1 and 2 Samuel, 1 and 2 Kings, Matthew, Mark, Luke, John and Acts (BOOKS below), one verse
              per line, no references, headings or footnotes: 1,857,274 characters (1.89 MB UTF-8)
              and a vocabulary of 67 characters (the letters but capital X, punctuation, the
              typographic quotes ‘ ’ “ ” and the dash —, space and newline; no digits).
  * cleaning: diatheke -o f -f OSIS (footnotes kept in the markup so that a footnote between two
              words, which the module's plain rendering drops together with the space, becomes a space);
              then the footnotes and tags are removed, runs of whitespace become one space, a space
              before . , ; : ! ? is removed, empty verses (omitted in the WEB) are skipped.
  * split:    every 20th chapter (chapters 10, 30, 50, ... counted over the whole excerpt) is held out
              for validation; the rest is the training text.

Model (PyTorch, the names the C# sample declares):
    embedding = nn.Embedding(67, 32)                      -> embedding.weight [67, 32]
    rnn       = nn.LSTM(32, 256, batch_first=True)        -> rnn.weight_ih_l0 [1024, 32], rnn.weight_hh_l0
                                                             [1024, 256], rnn.bias_ih_l0, rnn.bias_hh_l0 [1024]
    fc        = nn.Linear(256, 67)                        -> fc.weight [67, 256], fc.bias [67]
    logits_t  = fc(h_t)                                   (next-character logits after each character)

    [RnnModel("models/char_lstm.safetensors", SequenceLength = 100)]
    [Embedding(67, 32, Weights = "embedding")]
    [Lstm(256, Weights = "rnn")]
    [Dense(67, Weights = "fc")]

Training: windows of 101 characters at uniformly random offsets of the training text (input the first
100, target the last 100), minibatch 64, each window from the zero state; cross-entropy; Adam with a
one-cycle learning rate peaking at 4e-3 (5% warm-up, cosine decay), gradient norm clipped to 1;
1500 steps (9.6 million characters, about 5.4 passes over the training text). CPU, one thread, seeded.
About 10 minutes on one core of the development machine (603 s for the committed model, on a shared 2-core
machine); the script prints the time it took. The committed model ends at a training loss of 1.187 and a
validation loss of 1.197 nats/char (1.73 bits/char); the loss still falls slowly at the end.

Speed: Debian's python3-torch calls the BLAS that /usr/lib/x86_64-linux-gnu/libblas.so.3 points to, by
default the netlib reference BLAS: 4.2 s per step here against 0.37 s with OpenBLAS (about 100 minutes
instead of 10). If OpenBLAS is installed (`apt-get install -y libopenblas0-pthread`) the script
re-executes itself with
LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/openblas-pthread (one thread), for itself only, without
changing the system's BLAS alternative (installing the package sets that alternative to OpenBLAS; see
tools/README.md for setting it back); `--reference-blas` turns that off. The committed model was
trained with OpenBLAS 0.3.21; another BLAS rounds differently, so a re-run there trains to a slightly
different model (equally good). With the same BLAS the run is deterministic.

Outputs (relative to the repository root; --out changes the folder):
  samples/CharRnn/models/char_lstm.safetensors   the trained weights (F32, the state_dict names above)
  samples/CharRnn/models/char_lstm.json          {"source": {...}, "vocabulary": "<the 67 characters,
      token i is character i>", "embeddingSize", "hiddenSize", "training": {...},
      "checkPrompt": "...", "checkTokens": [...], "checkLogits": [[67 floats] per prompt character]}
      checkLogits are PyTorch's float32 logits after each character of checkPrompt, from the zero
      state (what Step writes); the script asserts that a float64 NumPy LSTM over the written file
      reproduces them within 1e-4.

Usage: /usr/bin/python3 tools/make_charrnn.py [--steps N] [--out DIR] [--save-text PATH] [--reference-blas]
"""

import argparse
import hashlib
import json
import math
import os
import re
import shutil
import subprocess
import sys
import time

OPENBLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-pthread"

# Re-run with OpenBLAS before torch is imported (see "Speed" above).
if (os.path.isfile(os.path.join(OPENBLAS_DIR, "libblas.so.3")) and "MAKE_CHARRNN_BLAS" not in os.environ
        and "--reference-blas" not in sys.argv):
    _env = dict(os.environ, MAKE_CHARRNN_BLAS=OPENBLAS_DIR, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1",
                LD_LIBRARY_PATH=OPENBLAS_DIR + (":" + os.environ["LD_LIBRARY_PATH"] if os.environ.get("LD_LIBRARY_PATH") else ""))
    os.execve(sys.executable, [sys.executable] + sys.argv, _env)

import numpy as np
import torch
import torch.nn as nn

from safetensors_io import read_safetensors, write_safetensors

MODULE = "engWEB2015eb"
MODULE_CONF = "/usr/share/sword/mods.d/engWEB2015eb.conf"
PACKAGES = ["diatheke", "sword-text-web"]
# diatheke's book names. Leviticus (law), the poetry, the prophets and the letters are left out.
BOOKS = ["Genesis", "Exodus", "Numbers", "Deuteronomy", "Joshua", "Judges", "Ruth", "I Samuel", "II Samuel",
         "I Kings", "II Kings", "Matthew", "Mark", "Luke", "John", "Acts"]
VALIDATION_EVERY = 20          # every 20th chapter is held out

EMBEDDING = 32
HIDDEN = 256
SEQ = 100
BATCH = 64
STEPS = 1500
MAX_LR = 4e-3
SEED = 2024
CHECK_PROMPT = "And Jesus said to them, “Go into the city"


# --------------------------------------------------------------------------------------
# The text
# --------------------------------------------------------------------------------------

def ensure_text_source():
    """Installs diatheke and the WEB module from the Debian mirror if they are missing (as root)."""
    if shutil.which("diatheke") and os.path.isfile(MODULE_CONF):
        return
    command = ["apt-get", "install", "-y", "--no-install-recommends"] + PACKAGES
    if os.geteuid() != 0:
        sys.exit("The text comes from Debian packages; install them first:\n  sudo " + " ".join(command))
    print("installing the text:", " ".join(command), flush=True)
    if subprocess.run(command, env=dict(os.environ, DEBIAN_FRONTEND="noninteractive")).returncode != 0:
        sys.exit("apt-get failed; run `apt-get update` and try again.")


def package_version(name):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True, text=True)
    return r.stdout.strip() if r.returncode == 0 else None


def module_version():
    with open(MODULE_CONF, encoding="utf-8") as f:
        for line in f:
            if line.startswith("Version="):
                return line.split("=", 1)[1].strip()
    return None


def read_book(name):
    """[(chapter, verse, OSIS text)] of one book, footnotes included (-o f)."""
    out = subprocess.run(["diatheke", "-b", MODULE, "-o", "f", "-f", "OSIS", "-k", name],
                         check=True, capture_output=True, text=True).stdout
    # Each verse starts a line with "<Book> c:v: " (diatheke repeats a psalm's title before it: skipped).
    refs = list(re.finditer(r"^.*?" + re.escape(name) + r" (\d+):(\d+): ", out, re.M))
    if not refs:
        sys.exit(f"diatheke returned no verses for {name!r}")
    end_marker = out.rindex("(" + MODULE + ")")
    verses = []
    for i, m in enumerate(refs):
        end = refs[i + 1].start() if i + 1 < len(refs) else end_marker
        verses.append((int(m.group(1)), int(m.group(2)), out[m.end():end]))
    return verses


def plain(osis):
    s = re.sub(r"<note\b[^>]*>.*?</note>", " ", osis, flags=re.S)   # a footnote may be all that separates two words
    s = s.replace("<milestone", " <milestone")                      # a poetry line break
    s = re.sub(r"<[^>]*>", "", s)
    s = re.sub(r"\s+", " ", s).strip()
    return re.sub(r" +([.,;:!?])", r"\1", s)


def load_text():
    """(training text, validation text): one verse per line, every VALIDATION_EVERY-th chapter held out."""
    train, val = [], []
    chapter_index = 0
    for book in BOOKS:
        chapters = {}
        for c, _, osis in read_book(book):
            line = plain(osis)
            if line:
                chapters.setdefault(c, []).append(line)
        for c in sorted(chapters):
            chapter_index += 1
            (val if chapter_index % VALIDATION_EVERY == VALIDATION_EVERY // 2 else train).extend(chapters[c])
    return "\n".join(train) + "\n", "\n".join(val) + "\n"


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------

class CharLstm(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.embedding = nn.Embedding(vocab, EMBEDDING)
        self.rnn = nn.LSTM(EMBEDDING, HIDDEN, batch_first=True)
        self.fc = nn.Linear(HIDDEN, vocab)

    def forward(self, tokens):            # tokens (N, T) int64 -> logits (N, T, vocab)
        out, _ = self.rnn(self.embedding(tokens))
        return self.fc(out)


def reference_logits(weights, tokens):
    """Float64 NumPy forward pass over the weights as written (PyTorch's LSTM: gates i, f, g, o)."""
    emb, wih, whh = weights["embedding.weight"], weights["rnn.weight_ih_l0"], weights["rnn.weight_hh_l0"]
    b = weights["rnn.bias_ih_l0"] + weights["rnn.bias_hh_l0"]
    h = np.zeros(HIDDEN)
    c = np.zeros(HIDDEN)
    sig = lambda v: 1 / (1 + np.exp(-v))
    out = []
    for t in tokens:
        z = wih @ emb[t] + whh @ h + b
        i, f, g, o = np.split(z, 4)
        c = sig(f) * c + sig(i) * np.tanh(g)
        h = sig(o) * np.tanh(c)
        out.append(weights["fc.weight"] @ h + weights["fc.bias"])
    return np.array(out)


def blas_in_use():
    with open("/proc/self/maps") as f:
        maps = f.read()
    return "OpenBLAS" if "libopenblas" in maps else "reference BLAS (libblas.so.3: " + os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3") + ")"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--out", default=None, help="output folder (default samples/CharRnn/models)")
    parser.add_argument("--save-text", default=None, help="also write the training text to this file")
    parser.add_argument("--reference-blas", action="store_true", help="do not switch to OpenBLAS")
    args = parser.parse_args()
    if args.steps < 10:
        parser.error("--steps must be at least 10")

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out_dir = args.out or os.path.join(root, "samples", "CharRnn", "models")
    os.makedirs(out_dir, exist_ok=True)

    ensure_text_source()
    train_text, val_text = load_text()
    full = train_text + val_text
    vocabulary = "".join(sorted(set(full)))
    assert all(ord(ch) < 0x10000 for ch in vocabulary), "one UTF-16 unit per token"
    index = {ch: i for i, ch in enumerate(vocabulary)}
    text_sha = hashlib.sha256(full.encode("utf-8")).hexdigest()
    print(f"text: {len(full):,} characters ({len(full.encode('utf-8')):,} bytes UTF-8), training {len(train_text):,}, "
          f"validation {len(val_text):,}; vocabulary {len(vocabulary)}; sha256 {text_sha[:16]}")
    print(f"BLAS: {blas_in_use()}", flush=True)
    if args.save_text:
        with open(args.save_text, "w", encoding="utf-8", newline="\n") as f:
            f.write(full)

    train_ids = torch.tensor([index[ch] for ch in train_text], dtype=torch.int64)
    val_ids = torch.tensor([index[ch] for ch in val_text], dtype=torch.int64)
    V = len(vocabulary)

    # Fixed validation windows: 128 windows of 200 characters spread over the held-out text.
    val_starts = np.linspace(0, len(val_ids) - 202, 128).astype(np.int64)
    val_x = torch.stack([val_ids[s:s + 200] for s in val_starts])
    val_y = torch.stack([val_ids[s + 1:s + 201] for s in val_starts])

    model = CharLstm(V)
    opt = torch.optim.Adam(model.parameters(), lr=MAX_LR)
    # 5% warm-up (at least 2 steps: OneCycleLR divides by the warm-up's length minus 1).
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=MAX_LR, total_steps=args.steps,
                                                pct_start=max(0.05, 2.0 / args.steps))
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(SEED)

    def validation_loss():
        model.eval()
        with torch.no_grad():
            loss = loss_fn(model(val_x).reshape(-1, V), val_y.reshape(-1)).item()
        model.train()
        return loss

    start = time.time()
    running = None
    for step in range(1, args.steps + 1):
        offsets = torch.from_numpy(rng.integers(0, len(train_ids) - SEQ - 1, BATCH))
        window = torch.stack([train_ids[o:o + SEQ + 1] for o in offsets.tolist()])
        opt.zero_grad()
        loss = loss_fn(model(window[:, :-1]).reshape(-1, V), window[:, 1:].reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        if step % 100 == 0 or step == 1 or step == args.steps:
            print(f"step {step:5d}  train loss {running:.4f}  validation loss {validation_loss():.4f} nats/char  "
                  f"({time.time() - start:.0f} s)", flush=True)
    seconds = time.time() - start
    val_loss = validation_loss()
    print(f"final: train loss {running:.4f} (running mean), validation loss {val_loss:.4f} nats/char "
          f"= {val_loss / math.log(2):.3f} bits/char, {seconds:.0f} s")

    model.eval()
    weights_path = os.path.join(out_dir, "char_lstm.safetensors")
    write_safetensors(weights_path, {k: v.detach().contiguous() for k, v in model.state_dict().items()})

    # What Step computes after each character of the check prompt, from the zero state.
    check_tokens = [index[ch] for ch in CHECK_PROMPT]
    with torch.no_grad():
        check_logits = model(torch.tensor([check_tokens]))[0].numpy().astype(np.float32)
    reference = reference_logits(read_safetensors(weights_path), check_tokens)
    error = float(np.max(np.abs(reference - check_logits.astype(np.float64))))
    print(f"check: PyTorch float32 vs NumPy float64 over the written file, max |difference| {error:.2e}")
    assert error < 1e-4, error

    # A greedy continuation, for the log.
    with torch.no_grad():
        tokens = list(check_tokens)
        state = None
        x = torch.tensor([tokens])
        for _ in range(120):
            out, state = model.rnn(model.embedding(x), state)
            nxt = int(model.fc(out[0, -1]).argmax())
            tokens.append(nxt)
            x = torch.tensor([[nxt]])
    print("greedy continuation:", "".join(vocabulary[t] for t in tokens).replace("\n", "⏎"))

    info = {
        "source": {
            "title": "World English Bible (2020 stable text edition)",
            "licence": "public domain (worldwide); \"World English Bible\" is a trademark of eBible.org",
            "debianPackage": "sword-text-web",
            "debianPackageVersion": package_version("sword-text-web"),
            "swordModule": MODULE,
            "swordModuleVersion": module_version(),
            "reader": "diatheke " + (package_version("diatheke") or "?"),
            "books": BOOKS,
            "characters": len(full),
            "sha256": text_sha,
        },
        "vocabulary": vocabulary,
        "embeddingSize": EMBEDDING,
        "hiddenSize": HIDDEN,
        "training": {
            "steps": args.steps, "batch": BATCH, "sequenceLength": SEQ, "maxLearningRate": MAX_LR, "seed": SEED,
            "blas": blas_in_use(),
            "trainLoss": round(running, 4), "validationLoss": round(val_loss, 4),
        },
        "checkPrompt": CHECK_PROMPT,
    }
    # The check arrays compactly: the tokens on one line, one row of logits per line, float32 values written so
    # that they parse back to the same float32.
    text = json.dumps(info, ensure_ascii=False, indent=1)[:-2]
    text += ',\n "checkTokens": [' + ", ".join(map(str, check_tokens)) + "],\n"
    text += ' "checkLogits": [\n  ' + ",\n  ".join("[" + ", ".join(repr(float(v)) for v in row) + "]" for row in check_logits)
    text += "\n ]\n}\n"
    parsed = json.loads(text)
    assert parsed["checkLogits"] == check_logits.tolist() and parsed["checkTokens"] == check_tokens
    with open(os.path.join(out_dir, "char_lstm.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    print(f"wrote {weights_path} ({os.path.getsize(weights_path):,} bytes) and char_lstm.json")


if __name__ == "__main__":
    main()
