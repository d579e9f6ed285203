"""The sections of the report, as blocks of :mod:`stages.document`: per dataset the results
tables, sample pictures, training curves and FID over training; then the diagnostics, each
with its numbers and a sentence generated from them (so the words follow the data)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from gan_core.data import load_dataset
from gan_core.figures import class_rows
from gan_core.io import read_json, read_npz
from gan_core.metrics.protocol import FLOOR_VARIANT
from gan_core.plots import (
    bars_figure,
    curves_figure,
    heatmaps_figure,
    images_figure,
    optimal_discriminator_figure,
    points_figure,
    save_figure,
    series_figure,
)
from gan_core.style_figures import style_mixing_grid, truncation_grids
from gan_core.training.checkpoint import load_generator
from stages.document import Block, Figure, Heading, Paragraph, Table
from stages.evaluate import checkpoint_table

N_POINTS_SHOWN = 2500  # generated points per scatter panel
N_REAL_SHOWN = 5000  # real points under them
SAMPLES_PER_CLASS = 8  # per row of a conditional variant's samples by class
MAX_CLASS_ROWS = 10  # classes shown (Stacked MNIST has 1000)
TRUNCATIONS = (1.0, 0.7)  # the psi a style-based generator's samples are drawn at
FIGURE_SEED = 0  # the latents of the style-based generators' figures
PIXEL_SCALE = 2  # figure pixels per image pixel in the by-class and style figures
VANISHED = 0.1  # a gradient norm "vanished" when it fell below this fraction of its first value
# Said under a results table that shows the metric, where its name alone is ambiguous.
METRIC_NOTES = {
    "reverse_kl": "reverse_kl: KL(q ‖ p) of the nearest-mode histogram q of all samples "
    "against the mixture weights p",
    "reverse_kl_hq": "reverse_kl_hq: the same over the high-quality samples only, as PacGAN's "
    "code (undefined, so left out of the mean, for a run with no high-quality sample)",
    "intra_fid": "intra_fid: conditional variants only, the mean over classes of the FID of "
    "the samples generated for a class against the test images of that class (about a tenth "
    "of the samples each, so on a higher scale than the whole set's FID: compare it with the "
    "real data's own, in the floor row)",
    "class_accuracy": "class_accuracy: conditional variants only, the fraction of samples the "
    "domain classifier assigns to the class they were generated for (the floor row: the "
    "classifier's accuracy on train images)",
}
# What a table in a digit space (``digits:<dataset>``) scores, set before its other notes.
DIGITS_NOTE = (
    "{space}: each sample's three colour channels read as three digits of its own by the "
    "same classifier (n_fake counts digits), against each distinct test digit once: how "
    "much the digits look like real ones one at a time, where the table above scores whole "
    "samples"
)
FAILED_NOTE = (
    "failed: runs that diverged (a non-finite loss; not scored), whose samples are not all "
    "finite (not scored) or whose samples escaped (more than half farther than twice the "
    "data's radius from its middle; scored)"
)


def variant_notes(
    variants: Mapping[str, Any], on_dataset: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """What a reader must know to read a variant's row, derived from its definition:
    ``variants`` as defined, ``on_dataset`` as they train on the table's dataset (where a
    variant's ``by_dataset`` changes settings there)."""
    on_dataset = on_dataset or {}
    notes = {}
    for name, variant in variants.items():
        said = []
        trained = on_dataset.get(name, variant)
        if trained.unroll_steps > 0:
            said.append(
                f"first-order unrolling ({trained.unroll_steps} D steps looked ahead; "
                "G's gradient is taken at the unrolled D, not differentiated through the "
                "unrolled steps as in Metz et al. 2017)"
            )
        if trained.width is not None:
            said.append(f"networks {trained.width} wide (its own width, not the setup's)")
        changed = [
            f"{field.name} {_setting(trained, field.name)} (elsewhere "
            f"{_setting(variant, field.name)})"
            for field in dataclasses.fields(variant)
            if getattr(trained, field.name) != getattr(variant, field.name)
        ]
        if changed:
            said.append("on this dataset " + ", ".join(changed))
        if said:
            notes[name] = f"{name}: " + "; ".join(said)
    return notes


def _setting(variant: Any, name: str) -> str:
    value = getattr(variant, name)
    return repr(dict(value) if isinstance(value, Mapping) else value)


class FigureFolder:
    """Figures are written into ``build`` (a temporary folder that replaces ``final`` when
    the report is complete) but named by their ``final`` path."""

    def __init__(self, build: Path, final: Path) -> None:
        self.build, self.final = build, final

    def add(self, name: str, fig: Any, caption: str) -> Figure:
        save_figure(fig, self.build / name)
        return Figure(self.final / name, caption)


def results_tables(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    dataset: str,
    headline: Mapping[str, str],
    notes: Mapping[str, str],
) -> list[Block]:
    """For each feature space of ``dataset``: its protocol line and the variants x metrics
    table (mean [95% CI] over seeds; best bold, ties marked ≈; the floor first), then the
    notes its rows need (``notes``: variant -> note)."""
    blocks: list[Block] = []
    cells = summary.set_index(["dataset", "feature_space", "variant", "metric"])
    for space, group in table[table["dataset"] == dataset].groupby("feature_space", sort=False):
        trained = group[group["variant"] != FLOOR_VARIANT]
        metrics = [m for m in headline if m in group and trained[m].notna().any()]
        rows = []
        for variant, runs in group.groupby("variant", sort=False):
            seconds = runs["train_seconds"].mean()
            ids = runs["run_id"].dropna().unique() if "run_id" in runs else []
            row = [
                "real data (floor)" if variant == FLOOR_VARIANT else variant,
                str(len(runs)),
                str(int((runs["status"] != "ok").sum())),
                "—" if pd.isna(seconds) else f"{seconds:.0f}",
            ]
            row += [_cell(cells.loc[(dataset, space, variant, m)]) for m in metrics]
            row.append(", ".join(f"`{run_id[:8]}`" for run_id in ids))
            rows.append(tuple(row))
        arrows = [f"{m} {'↓' if headline[m] == 'lower' else '↑'}" for m in metrics]
        header = ("variant", "seeds", "failed", "train s", *arrows, "MLflow runs")
        blocks += [
            Heading(3, f"{dataset} — {space}"),
            Paragraph(_protocol_line(group, space)),
            Table(header, tuple(rows)),
        ]
        legend = [DIGITS_NOTE.format(space=space)] if space.startswith("digits:") else []
        legend += [METRIC_NOTES[m] for m in metrics if m in METRIC_NOTES]
        legend += [notes[v] for v in group["variant"].unique() if v in notes]
        if (group["status"] != "ok").any():
            legend.append(FAILED_NOTE)
        if legend:
            blocks.append(Paragraph("; ".join(legend) + "."))
    return blocks


def _cell(entry: pd.Series) -> str:
    if pd.isna(entry["mean"]):
        return "n/a"
    text = f"{entry['mean']:.3g}"
    if pd.notna(entry["ci_low"]):
        text += f" [{entry['ci_low']:.3g}, {entry['ci_high']:.3g}]"
    if entry["best"]:
        return f"**{text}**"
    return f"≈ {text}" if entry["tied_with_best"] else text


def _protocol_line(group: pd.DataFrame, space: str) -> str:
    trained = group[group["variant"] != FLOOR_VARIANT]
    finished = trained[trained["status"] != "diverged"]  # a diverged run stopped short
    first = next(rows for rows in (finished, trained, group) if len(rows)).iloc[0]
    parts = []
    if pd.notna(first["steps"]):
        g_steps = int(first.get("g_steps", 1))
        what = "generator steps" if g_steps == 1 else f"steps ({g_steps} generator updates each)"
        parts.append(f"{int(first['steps'])} {what} of batch {int(first['batch_size'])}")
        # the variants with a budget of their own
        own = finished[finished["steps"] != first["steps"]].drop_duplicates("variant")
        parts += [f"{row.variant}: {int(row.steps)} steps" for row in own.itertuples()]
    parts += [
        f"n_fake = {int(first['n_fake'])}",
        f"n_real = {int(first['n_real'])}",
        f"feature space `{space}`",
    ]
    if "weights_sha256" in first and pd.notna(first["weights_sha256"]):
        parts.append(f"weights sha256 `{first['weights_sha256'][:12]}…`")
    if "preprocessing" in first and pd.notna(first["preprocessing"]):
        parts.append(f"preprocessing: {first['preprocessing']}")
    scale = first.get("kid_feature_scale")
    if pd.notna(scale):
        how = "unscaled, as clean-fid" if scale == 1 else "sqrt(mean ‖x_real‖² / D)"
        parts.append(f"KID on features divided by {scale:.4g} ({how})")
    parts.append(f"seeds {sorted(trained['seed'].unique().tolist())}")
    return "Protocol: " + ", ".join(parts) + "."


def dataset_figures(
    dataset: str,
    seeds: Mapping[str, Sequence[int]],
    runs: Path,
    results: Path,
    prepared: Path,
    folder: FigureFolder,
    checkpoint_samples: int,
    scored_n_fake: Mapping[str, int],
) -> list[Block]:
    """Samples of every variant side by side (its first seed), its training curves, and
    FID over training (mean over seeds) on ``checkpoint_samples`` samples, labelled as not
    comparable with the results tables' FID in the same space on ``scored_n_fake[space]``
    points (a space missing: the tables have no FID there)."""
    first = {variant: f"{variant}/{seed_list[0]}" for variant, seed_list in seeds.items()}
    info = read_json(prepared / "manifest.json").get("info", {})
    if "modes" in info:
        data = load_dataset(prepared)
        real = data.test.x[:N_REAL_SHOWN]
        panels = []
        for variant, run in first.items():
            with np.load(runs / dataset / run / "samples.npz") as arrays:
                panels.append((variant, arrays["x"][:N_POINTS_SHOWN]))
        fig = points_figure(panels, real, np.asarray(info["modes"]))
        caption = (
            f"{dataset}: {N_POINTS_SHOWN} generated points (red) of each variant's first seed "
            f"over {len(real)} test points (blue); + marks the mode centres."
        )
    else:
        panels = [
            (variant, np.asarray(Image.open(runs / dataset / run / "model" / "samples.png")))
            for variant, run in first.items()
        ]
        fig = images_figure(panels)
        caption = f"{dataset}: 64 samples of each variant's first seed, same noise for all."
    blocks: list[Block] = [folder.add(f"{dataset}_samples.png", fig, caption)]
    if "modes" not in info:  # images: conditional and style-based generators have more
        blocks += _class_figure(dataset, first, runs, folder)
        blocks += _style_figures(dataset, first, runs, folder)
    histories = {
        variant: pd.read_csv(runs / dataset / run / "model" / "history.csv").to_dict("list")
        for variant, run in first.items()
    }
    blocks.append(folder.add(
        f"{dataset}_curves.png", curves_figure(histories),
        f"{dataset}: training curves of each variant's first seed (logged every few steps).",
    ))  # fmt: skip
    series, space = {}, None
    for variant, seed_list in seeds.items():
        tables = [checkpoint_table(results, dataset, variant, seed) for seed in seed_list]
        tables = [t for t in tables if "fid" in t and t["fid"].notna().any()]
        if not tables:
            continue
        space = tables[0]["fid_feature_space"].dropna().iloc[0]
        mean = pd.concat(tables).groupby("step")["fid"].mean()
        series[variant] = (mean.index.tolist(), mean.tolist())
    if series:
        n = checkpoint_samples
        caption = (
            f"{dataset}: FID over training checkpoints ({space} features, N = {n} samples per "
            "checkpoint, the same noise at each; mean over seeds)."
        )
        scored = scored_n_fake.get(space)
        if scored is not None and scored != n:
            caption += (
                " FID is biased upward by a term in 1/N (Chong and Forsyth 2020): these values "
                f"are not comparable with the tables' FID at N = {scored}."
            )
        blocks.append(folder.add(
            f"{dataset}_fid_over_training.png",
            series_figure(series, "generator step", f"FID ({space}, N = {n})", log_y=True),
            caption,
        ))  # fmt: skip
    return blocks


def _class_figure(
    dataset: str, first: Mapping[str, str], runs: Path, folder: FigureFolder
) -> list[Block]:
    """The conditional variants' samples by requested class: a row per class."""
    panels = []
    for variant, run in first.items():
        arrays = read_npz(runs / dataset / run / "samples.npz", ("x",), "train the run again")
        if "y" in arrays:
            shown = arrays["y"] < MAX_CLASS_ROWS
            grid = class_rows(arrays["x"][shown], arrays["y"][shown], SAMPLES_PER_CLASS)
            panels.append((variant, grid))
    if not panels:
        return []
    caption = (
        f"{dataset}: samples of each conditional variant's first seed by the class they were "
        f"generated for, a row per class from 0 at the top ({SAMPLES_PER_CLASS} each, at most "
        f"{MAX_CLASS_ROWS} classes)."
    )
    figure = images_figure(panels, pixel_scale=PIXEL_SCALE)
    return [folder.add(f"{dataset}_samples_by_class.png", figure, caption)]


def _style_figures(
    dataset: str, first: Mapping[str, str], runs: Path, folder: FigureFolder
) -> list[Block]:
    """For each style-based variant (its first seed): the same latents at each truncation
    psi of ``TRUNCATIONS``, and a style-mixing grid."""
    blocks: list[Block] = []
    for variant, run in first.items():
        model = runs / dataset / run / "model"
        if read_json(model / "run.json")["params"]["arch"] != "stylegan":
            continue
        gen, _ = load_generator(model / "checkpoint.pt", torch.device("cpu"))
        grids = truncation_grids(gen.eval(), TRUNCATIONS, 32, FIGURE_SEED)
        panels = [(f"psi = {psi}", grid) for psi, grid in zip(TRUNCATIONS, grids, strict=True)]
        blocks.append(folder.add(
            f"{dataset}_{variant}_truncation.png",
            images_figure(panels, n_cols=len(panels), pixel_scale=PIXEL_SCALE),
            f"{dataset}, {variant} (seed {run.split('/')[1]}): the same 32 latents and noise "
            "inputs at each truncation psi; w is pulled towards its mean by 1 - psi, trading "
            "variety for typical samples (the tables score psi = "
            f"{gen.body.truncation_psi}).",
        ))  # fmt: skip
        mixing = style_mixing_grid(gen, 6, FIGURE_SEED)
        blocks.append(folder.add(
            f"{dataset}_{variant}_style_mixing.png",
            images_figure([("", mixing)], n_cols=1, pixel_scale=PIXEL_SCALE),
            f"{dataset}, {variant}: style mixing. Top row: sources B; left column: sources A; "
            "each other image takes the coarse styles (every resolution below the last) of "
            "its row's A and the fine styles (the last resolution's) of its column's B.",
        ))  # fmt: skip
    return blocks


def optimal_discriminator_section(report: Mapping[str, Any], folder: FigureFolder) -> list[Block]:
    grid = {key: np.asarray(values) for key, values in report["grid"].items()}
    ok = report["max_abs_error"] < 0.05 and report["value_gap"] < 0.02
    verdict = (
        "the trained discriminator reaches the optimum the proposition describes, within the "
        "stated tolerances (0.05 on D, 0.02 on V)"
        if ok
        else "the trained discriminator stays further from D* than the stated tolerances "
        "(0.05 on D, 0.02 on V): the measurement does not confirm the proposition here"
    )
    return [
        Heading(3, "1. The optimal discriminator"),
        Paragraph(
            f"A discriminator trained for {report['config']['steps']} steps on fresh samples "
            f"of the data p (`{report['data']}`) against a fixed generator density q "
            f"({report['generator']}) is compared with D*(x) = p(x) / (p(x) + q(x)) on "
            f"{len(grid['x'])} grid points (Goodfellow et al. 2014, Proposition 1). Where "
            "p + q exceeds 1% of its maximum, the largest absolute error is "
            f"{report['max_abs_error']:.4f} and the mean {report['mean_abs_error']:.4f}. "
            f"V(D, G) = {report['value']:.4f} against -log 4 + 2 JSD(p, q) = "
            f"{report['target']:.4f} (JSD integrated numerically: {report['jsd']:.4f} nats), "
            f"a gap of {report['value_gap']:.4f}: {verdict}."
        ),
        folder.add(
            "diagnostic_optimal_discriminator.png",
            optimal_discriminator_figure(*(grid[k] for k in ("x", "p", "q", "d", "d_star"))),
            "The trained D(x) (dashed) against D*(x) (solid), over the densities p and q.",
        ),
    ]  # fmt: skip


def vanishing_gradients_section(report: Mapping[str, Any], folder: FigureFolder) -> list[Block]:
    d_fake = np.asarray(report["mean_d_fake"])
    norms = {cost: np.asarray(values) for cost, values in report["grad_norms"].items()}
    rows, change = [], {}
    for cost, values in norms.items():
        change[cost] = values[-1] / values[0] if values[0] > 0 else float("nan")
        rows.append((cost, f"{values[0]:.3g}", f"{values[-1]:.3g}", f"{change[cost]:.3g}"))
    verdicts = {cost: ratio < VANISHED for cost, ratio in change.items()}
    sentence = (
        f"As the discriminator trained, mean D(G(z)) fell from {d_fake[0]:.3g} to "
        f"{d_fake[-1]:.3g}. The generator's gradient norm changed by a factor of "
        + ", ".join(
            f"{change[c]:.3g} under {c} ({'vanished' if verdicts[c] else 'did not vanish'})"
            for c in norms
        )
        + f" (vanished: fell below {VANISHED:g} of its first value). "
    )
    predicted = {"minimax": True, "ml": True, "ns": False}  # Goodfellow 2016, Fig. 16
    compared = [c for c in predicted if c in verdicts]
    wrong = [c for c in compared if verdicts[c] != predicted[c]]
    if compared and not wrong:
        sentence += (
            "This is what the textbook predicts: the minimax and maximum-likelihood costs "
            "lose their gradient when D rejects the samples, the non-saturating one keeps it."
        )
    elif wrong:
        sentence += (
            "This departs from the textbook's prediction (minimax and maximum-likelihood "
            f"vanish, non-saturating does not) for {', '.join(wrong)}."
        )
    return [
        Heading(3, "2. Vanishing gradients"),
        Paragraph(sentence),
        Table(("generator cost", "gradient norm, first", "last", "last / first"), tuple(rows)),
        folder.add(
            "diagnostic_vanishing_gradients.png",
            series_figure(
                {cost: (d_fake, values) for cost, values in norms.items()},
                "mean D(G(z)) as the discriminator trains", "generator gradient norm",
                log_x=True, log_y=True,
            ),
            "Generator gradient norm under each cost against the discriminator's mean output "
            "on generated samples (D grows stronger from right to left).",
        ),
    ]  # fmt: skip


def loss_quality_section(report: Mapping[str, Any], folder: FigureFolder) -> list[Block]:
    table = pd.DataFrame(report["loss_vs_quality"])
    if table.empty:
        return [Heading(3, "3. Loss is not quality"),
                Paragraph("No run was scored at three or more checkpoints.")]  # fmt: skip
    means = (
        table.groupby(["dataset", "variant"], sort=False)
        .agg(rho_g=("rho_g_loss", "mean"), rho_d=("rho_d_loss", "mean"),
             seeds=("seed", "count"), checkpoints=("n_checkpoints", "max"),
             space=("fid_feature_space", "first"))
        .reset_index()
    )  # fmt: skip
    rows = tuple(
        (r.dataset, r.variant, r.space, str(r.seeds), str(r.checkpoints),
         _number(r.rho_g), _number(r.rho_d))
        for r in means.itertuples()
    )  # fmt: skip
    rho = table["rho_g_loss"].dropna()
    poor = int((rho < 0.5).sum())  # weak, or the wrong sign: a lower loss with a worse FID
    sentence = (
        f"Over {len(rho)} runs scored at every checkpoint, the Spearman correlation between "
        f"the generator loss and FID ranges from {rho.min():.2f} to {rho.max():.2f} (median "
        f"{rho.median():.2f}); in {poor} of them it is below 0.5, {int((rho < 0).sum())} "
        "of these negative (a lower generator loss going with a worse FID). "
        + (
            "Within a run, the generator loss is mostly not a measure of sample quality."
            if poor > len(rho) / 2
            else "In most runs the generator loss does rise and fall with FID here, which "
            "is more agreement than the textbook leads one to expect."
        )
    )
    bars = {
        f"{r.dataset}/{r.variant}": {"G loss": r.rho_g, "D loss": r.rho_d}
        for r in means.itertuples()
    }
    return [
        Heading(3, "3. Loss is not quality"),
        Paragraph(sentence),
        Table(
            (
                "dataset",
                "variant",
                "FID space",
                "seeds",
                "checkpoints",
                "rho(G loss, FID)",
                "rho(D loss, FID)",
            ),
            rows,
        ),  # fmt: skip
        folder.add(
            "diagnostic_loss_vs_fid.png",
            bars_figure(bars, "Spearman rho with FID"),
            "Spearman correlation across checkpoints between each loss and FID (mean over "
            "seeds): +1 means the loss falls exactly when the samples get better.",
        ),
    ]


def mode_dynamics_section(report: Mapping[str, Any], folder: FigureFolder) -> list[Block]:
    first: dict[tuple[str, str], dict] = {}  # each (dataset, variant)'s lowest seed
    for h in report["mode_histories"]:
        key = (h["dataset"], h["variant"])
        if key not in first or h["seed"] < first[key]["seed"]:
            first[key] = h
    histories = list(first.values())
    if not histories:
        return [Heading(3, "4. Mode collapse over time"),
                Paragraph("No run of the chosen variants has training snapshots.")]  # fmt: skip
    rows, sentences = [], []
    table = pd.DataFrame(report["mode_histories"])
    for h in histories:
        counts = np.asarray(h["counts"])
        rows.append((h["dataset"], h["variant"], str(h["seed"]), str(counts.shape[1]),
                     " → ".join(str(m) for m in h["modes_captured"]),
                     f"{h['histogram_shift']:.3f}"))  # fmt: skip
    for dataset, group in table.groupby("dataset", sort=False):
        shift = group.groupby("variant", sort=False)["histogram_shift"].mean()
        final = group.groupby("variant", sort=False)["modes_captured"].apply(
            lambda runs: float(np.mean([m[-1] for m in runs])))  # fmt: skip
        sentence = (
            f"On {dataset}, the mix of modes moved most between checkpoints under "
            f"{shift.idxmax()} (mean total-variation distance {shift.max():.3f}, over seeds) "
            f"and least under {shift.idxmin()} ({shift.min():.3f}); "
        )
        if final.max() == final.min():
            sentence += f"at the end every variant covered {final.max():g} modes."
        else:
            sentence += (
                f"at the end {final.idxmax()} covered the most modes ({final.max():g}) and "
                f"{final.idxmin()} the fewest ({final.min():g})."
            )
        sentences.append(sentence)
    panels = [(f"{h['dataset']} {h['variant']} seed {h['seed']}", h["steps"],
               np.asarray(h["counts"])) for h in histories]  # fmt: skip
    return [
        Heading(3, "4. Mode collapse over time"),
        Paragraph(" ".join(sentences)),
        Table(
            (
                "dataset",
                "variant",
                "seed",
                "modes",
                "modes captured over checkpoints",
                "mean histogram shift (TV)",
            ),
            tuple(rows),
        ),  # fmt: skip
        folder.add(
            "diagnostic_mode_histograms.png",
            heatmaps_figure(panels),
            "Fraction of generated samples nearest each mode (colour) at each training "
            "checkpoint: a collapsed generator shows one bright row, a hopping one moves it.",
        ),
    ]


def _number(value: float) -> str:
    return "n/a" if pd.isna(value) else f"{value:.2f}"
