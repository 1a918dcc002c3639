"""bench/detect_rules.py - candidate DEFAULT-option rules for vae_train,
evaluated by the detection benchmark without changing the extension:
bench/detect.py with VAE_RULE=name trains every set's vae with the options
RULES[name](n_rows, dim) returns, where n_rows is the number of rows given
to vae_train and dim the number of features.  An option a rule leaves out
keeps the extension's own default.  VAE_OPTIONS, when also set, overrides
the rule key by key.

Every rule gives epochs, latent_dim and hidden explicitly (what a part
leaves out is the 1.0 default rule's), so a rule means the same on any
build: "default" is the 1.0 defaults.  Since 1.1 the extension's own
defaults (options {}, a run without VAE_RULE) are BUILTIN below, "Rule R";
bench/detect.py records that in its JSON summary (default_rule) for
bench/detect_compare.py's cost columns.

A rule is built from three parts, each documented at its function:

* the training budget (budget_options): optimizer STEPS instead of epochs;
* the layer sizes (size_options): latent and hidden width from dim;
* the validation split for small tables (validation, patience in steps).

Names (see RULES at the bottom; `python3 bench/detect_rules.py` prints the
options each rule gives for the benchmark's shapes and for KDD's):

  default             the 1.0 defaults, explicitly
  stepsS              S in 2k, 5k, 10k, 20k: step budget S, today's sizes
  stepsS_lat          + latent rule "wide" (latent_wide)
  stepsS_lat_h32      + hidden floor 32 (hidden_floor)
  stepsS_lat_h64      + hidden floor 64
  stepsS_lat_h64big   + hidden floor 64 from 5,000 rows on (8 below)
  stepsS_lat_h64bigdeep  + and two such hidden layers from 5,000 rows on
  stepsS_lat_val      + 20% validation below 1,000 rows, patience 20% of S
  stepsS_lat_wdW      + weight decay W (1e-4 ... 1e-2)
The benchmark's ENSEMBLE=k knob (bench/detect.py) combines with any rule.
"""
import math

BATCH = 128                # the extension's default batch size
TODAY_STEPS = 12000        # today's default: about 12,000 steps in [5, 100] epochs
MIN_EPOCHS = 5             # as today: every row is seen at least 5 times


def n_train_rows(n_rows, validation_fraction):
    """Rows that train (not held out), as vc_options_resolve counts them."""
    return max(1, n_rows - math.floor(n_rows * validation_fraction))


def steps_per_epoch(n_train, batch=BATCH):
    """Adam steps in one epoch: ceil(n_train / min(batch, n_train))."""
    bs = min(batch, n_train)
    return -(-n_train // bs)


def budget_options(n_rows, steps, validation_fraction):
    """The step budget: epochs = ceil(steps / steps_per_epoch), at least
    MIN_EPOCHS and at most `steps` (a table of one minibatch trains exactly
    `steps` steps).  For a large table this is about `steps` steps, so the
    cost on 200,000 rows is steps / (today's 12,000-12,500) times today's."""
    spe = steps_per_epoch(n_train_rows(n_rows, validation_fraction))
    return dict(epochs=max(MIN_EPOCHS, min(steps, -(-steps // spe))))


def latent_today(dim):
    """Today's latent size: ceil(dim / 12) clamped to [2, 20]."""
    return min(20, max(2, -(-dim // 12)))


def latent_wide(dim):
    """Latent "wide": max(ceil(dim/12), min(10, ceil(dim/2))), at most 20.
    16-18 features -> 8-9 instead of 2; from 20 features up to 120 -> 10
    (KDD's 118 keep 10); 784 -> 20 as today."""
    return min(20, max(-(-dim // 12), min(10, -(-dim // 2))))


def hidden_floor(dim, latent, floor):
    """One hidden layer of ceil(dim/2) units clamped to [max(floor,
    2*latent), 512] (today: floor 8).  KDD (118 features, latent 10) keeps
    59 for floors up to 59."""
    return [min(512, max(max(floor, 2 * latent), -(-dim // 2)))]


def size_options(dim, latent_rule=None, floor=8):
    """latent_dim and hidden from dim; latent_rule None: the 1.0 rule."""
    lat = (latent_rule or latent_today)(dim)
    return dict(latent_dim=lat, hidden=hidden_floor(dim, lat, floor))


def validation_options(n_rows, steps, fraction, patience_share):
    """Below 1,000 rows (where today there is no validation split): hold out
    `fraction` of the rows and stop after patience = patience_share * steps
    steps without improvement, in epochs (at least 10, today's patience).
    From 1,000 rows on, today's 10% and 10 epochs."""
    if n_rows >= 1000:
        return {}
    spe = steps_per_epoch(n_train_rows(n_rows, fraction))
    return dict(validation_fraction=fraction,
                patience=max(10, -(-int(patience_share * steps) // spe)))


BIG_ROWS = 5000            # "large table" for the big-table size variants


def make_rule(steps=None, latent_rule=None, floor=8, val=None, weight_decay=None,
              big_floor=None, big_deep=False):
    """A rule function (n_rows, dim) -> options from the parts above.
    steps None: the 1.0 epochs (today_epochs); val = (fraction, patience_share) or None;
    big_floor: the hidden floor from BIG_ROWS rows on (floor below);
    big_deep: from BIG_ROWS rows on, two hidden layers of that width."""
    def rule(n_rows, dim):
        """Options for one table of n_rows rows of dim features."""
        opts = {}
        big = n_rows >= BIG_ROWS
        vfrac = 0.1 if n_rows >= 1000 else 0.0
        if val is not None:
            opts.update(validation_options(n_rows, steps, *val))
            vfrac = opts.get("validation_fraction", vfrac)
        if steps is not None:
            opts.update(budget_options(n_rows, steps, vfrac))
        else:
            opts["epochs"] = today_epochs(n_rows)
        opts.update(size_options(dim, latent_rule, big_floor if big and big_floor else floor))
        if big and big_deep and "hidden" in opts:
            opts["hidden"] = opts["hidden"] * 2
        if weight_decay is not None:
            opts["weight_decay"] = weight_decay
        return opts
    return rule


RULES = {"default": make_rule()}
BUILTIN = "steps10k_lat_h64bigdeep"   # what vae_train's defaults follow since 1.1
for _s in (2000, 5000, 10000, 20000):
    _k = f"steps{_s // 1000}k"
    RULES[_k] = make_rule(_s)
    RULES[_k + "_lat"] = make_rule(_s, latent_wide)
    RULES[_k + "_lat_h32"] = make_rule(_s, latent_wide, 32)
    RULES[_k + "_lat_h64"] = make_rule(_s, latent_wide, 64)
    RULES[_k + "_lat_h64big"] = make_rule(_s, latent_wide, 8, big_floor=64)
    RULES[_k + "_lat_h64bigdeep"] = make_rule(_s, latent_wide, 8, big_floor=64, big_deep=True)
    RULES[_k + "_lat_val"] = make_rule(_s, latent_wide, val=(0.2, 0.2))
    RULES[_k + "_lat_h32_val"] = make_rule(_s, latent_wide, 32, val=(0.2, 0.2))
    for _w in (1e-4, 1e-3, 1e-2):
        RULES[_k + f"_lat_wd{_w:g}"] = make_rule(_s, latent_wide, weight_decay=_w)
        RULES[_k + f"_lat_h32_wd{_w:g}"] = make_rule(_s, latent_wide, 32, weight_decay=_w)


def today_epochs(n_rows):
    """The 1.0 default epochs (about 12,000 steps within [5, 100])."""
    n_train = n_train_rows(n_rows, 0.1 if n_rows >= 1000 else 0.0)
    spe = steps_per_epoch(n_train)
    return min(100, max(5, -(-TODAY_STEPS // spe)))


def n_params(dim, hidden, latent):
    """Weights and biases of the gaussian layout (vc_model.c BuildLayout):
    encoder layers, encoder head (2 x latent), mirrored decoder layers,
    decoder head (2 x dim).  Training FLOPs per row are about 6 x this."""
    widths = [dim] + list(hidden)
    p = sum((a + 1) * b for a, b in zip(widths, widths[1:]))
    p += (widths[-1] + 1) * 2 * latent
    dec = [latent] + list(reversed(hidden))
    p += sum((a + 1) * b for a, b in zip(dec, dec[1:]))
    return p + (dec[-1] + 1) * 2 * dim


def cost(rule, n_rows, dim):
    """(epochs, steps, rows x epochs, rows x epochs x parameters) the rule
    gives a table (before early stopping), today's defaults filled in for
    what it leaves out; the last is proportional to the training FLOPs."""
    o = rule(n_rows, dim)
    vfrac = o.get("validation_fraction", 0.1 if n_rows >= 1000 else 0.0)
    n_train = n_train_rows(n_rows, vfrac)
    ep = o.get("epochs", today_epochs(n_rows))
    lat = o.get("latent_dim", latent_today(dim))
    hid = o.get("hidden", hidden_floor(dim, lat, 8))
    return ep, ep * steps_per_epoch(n_train), ep * n_train, ep * n_train * n_params(dim, hid, lat)


if __name__ == "__main__":
    shapes = [("glass", 38, 9), ("vowel", 45, 24), ("vehicle", 109, 18), ("breast_cancer", 178, 30),
              ("letter_UvV", 406, 16), ("letter_25v1", 9605, 16), ("kdd", 198371, 118),
              ("200k x 118", 200000, 118), ("mnist-like", 60000, 784)]
    for name in RULES:
        print(name)
        for s, n, d in shapes:
            ep, st, rx, _ = cost(RULES[name], n, d)
            print(f"  {s:14s} n={n:6d} d={d:3d} {RULES[name](n, d)} -> {st} steps, {rx} rows x epochs")
