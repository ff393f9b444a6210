"""The ``reader`` network (torch, built inside ``build`` so torch stays an optional extra).

Image: a small convolutional encoder, 128 x 128 RGB to a 32 x 32 map of ``dim`` features with
coordinate channels, plus a depth head (an auxiliary target). Text: word embeddings; a question is
read by a bidirectional GRU, an object name or an option by the mean of its words.

Grounding: a text vector ``u`` gives a 32 x 32 logit map ``<W u, F>``; it is trained directly on
the train frames' own instance masks (every visible object's name against its mask), and read as
a summary (attended features, expected position and depth, peak, mass, spread). Heads:

* multiple choice: each option scored by an MLP over the question's context (question vector,
  summaries of the objects it names, of two question-conditioned queries and of the point it
  names) and the option (its words and the summaries of the objects it names);
* box and point: the grounding map of the object named (the box of its thresholded component
  around the peak, the peak itself);
* placement: a question-conditioned map over the features and the named objects' maps.

``image=False`` builds the text-only twin: the same network with the image input zeroed.
"""

from __future__ import annotations

from typing import Any

GRID = 32  # grounding resolution (cells per side)
SIZE = 128  # input resolution
SUMMARY = 7  # extra numbers of a grounding summary: depth, x, y, peak, mass, spread x, spread y


def build(cfg: dict[str, Any]) -> Any:
    """The network for ``cfg`` (``vocab``, ``qtypes``, ``dim``, ``image``)."""
    import torch
    from torch import nn
    from torch.nn import functional as fnn

    d = int(cfg["dim"])

    def block(i: int, o: int, s: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(i, o, 3, s, 1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True))

    class Reader(nn.Module):  # type: ignore[misc]
        coords: Any  # 2 x G x G cell centres in [0, 1] (a buffer)

        def __init__(self) -> None:
            super().__init__()
            self.use_image = bool(cfg.get("image", True))
            self.stem = nn.Sequential(block(3, 32, 2), block(32, 48, 2), block(48, 64, 1))  # 32 x 32
            self.down = nn.Sequential(block(64, 96, 2), block(96, 128, 1), block(128, 128, 1))  # 16 x 16
            self.fuse = nn.Sequential(nn.Conv2d(64 + 128 + 2, d, 1), nn.ReLU(inplace=True), nn.Conv2d(d, d, 1))
            self.depth = nn.Conv2d(d, 1, 1)
            self.emb = nn.Embedding(int(cfg["vocab"]), d, padding_idx=0)
            self.qtype = nn.Embedding(int(cfg["qtypes"]) + 1, d)
            self.gru = nn.GRU(d, d // 2, batch_first=True, bidirectional=True)
            self.phrase = nn.Sequential(nn.Linear(d, d), nn.ReLU(), nn.Linear(d, d))
            self.key = nn.Linear(d, d)
            self.queries = nn.Linear(d, 2 * d)
            self.summ = nn.Sequential(nn.Linear(d + SUMMARY, d), nn.ReLU())  # summ[0].out_features: d
            ctx_in = d + (MAXM + 2) * d + d + 1
            self.ctx = nn.Sequential(nn.LayerNorm(ctx_in), nn.Linear(ctx_in, 2 * d), nn.ReLU(), nn.Dropout(0.1),
                                     nn.Linear(2 * d, 2 * d))
            opt_in = 2 * d + d + MAXM * d + MAXM
            self.opt = nn.Sequential(nn.LayerNorm(opt_in), nn.Linear(opt_in, 2 * d), nn.ReLU(),
                                     nn.Linear(2 * d, d), nn.ReLU(), nn.Linear(d, 1))
            self.match = nn.Linear(2 * d, d)  # a bilinear context-option term beside the MLP
            self.place_film = nn.Linear(d, 2 * d)
            self.place = nn.Sequential(nn.Conv2d(d + MAXM, d // 2, 1), nn.ReLU(), nn.Conv2d(d // 2, 1, 3, 1, 1))
            ys, xs = torch.meshgrid(torch.linspace(0, 1, GRID), torch.linspace(0, 1, GRID), indexing="ij")
            self.register_buffer("coords", torch.stack([xs, ys]), persistent=False)  # 2 x G x G

        # -- image ---------------------------------------------------------------------------
        def encode(self, img: Any) -> tuple[Any, Any]:
            """Features (B, d, G, G) and depth (B, G, G) of images (B, 3, S, S) in [0, 1]."""
            n = img.shape[0]
            if not self.use_image:  # the text-only twin: one zero image stands for all (same output)
                img = torch.zeros_like(img[:1])
            a = self.stem((img - 0.45) / 0.25)
            b = fnn.interpolate(self.down(a), size=a.shape[-2:], mode="bilinear", align_corners=False)
            c = self.coords.unsqueeze(0).expand(img.shape[0], -1, -1, -1)
            f = self.fuse(torch.cat([a, b, c], 1))
            return f.expand(n, -1, -1, -1), self.depth(f).squeeze(1).expand(n, -1, -1)

        # -- text ----------------------------------------------------------------------------
        def bag(self, ids: Any) -> Any:
            """Phrase vectors (..., d) of padded word ids (..., T): the mean of the words, then an MLP."""
            m = (ids > 0).float().unsqueeze(-1)
            v = (self.emb(ids) * m).sum(-2) / m.sum(-2).clamp(min=1)
            return self.phrase(v)

        def question(self, ids: Any, qtype: Any) -> Any:
            """Question vectors (N, d) of padded word ids (N, T)."""
            h, _ = self.gru(self.emb(ids))
            m = (ids > 0).float().unsqueeze(-1)
            return (h * m).sum(1) / m.sum(1).clamp(min=1) + self.qtype(qtype)

        # -- grounding -----------------------------------------------------------------------
        def _per_frame(self, frame: Any, rows: Any, mats: Any) -> Any:
            """``rows[i] @ mats[frame[i]]`` for every i, one matmul per frame (no per-row copies
            of a frame's feature map)."""
            order = torch.argsort(frame, stable=True)
            counts = torch.bincount(frame, minlength=mats.shape[0]).tolist()
            parts = [r @ mats[b] for b, r in enumerate(torch.split(rows[order], counts)) if counts[b]]
            out = torch.cat(parts, 0)
            return out[torch.argsort(order, stable=True)]

        def ground(self, feats: Any, frame: Any, u: Any) -> Any:
            """Logit maps (N, G, G) of text vectors ``u`` (N, d) on the frames ``frame`` (N,)."""
            f = feats.flatten(2)  # B, d, P
            return (self._per_frame(frame, self.key(u), f) / d ** 0.5).view(-1, GRID, GRID)

        def summary(self, feats: Any, depth: Any, frame: Any, logits: Any) -> Any:
            """Grounding summaries (N, d) of logit maps (N, G, G)."""
            n = logits.shape[0]
            flat = logits.reshape(n, -1)
            a = torch.softmax(flat, -1)
            ft = torch.cat([feats.flatten(2), depth.flatten(1).unsqueeze(1)], 1).transpose(1, 2)  # B, P, d+1
            fd = self._per_frame(frame, a, ft)
            c = self.coords.flatten(1)  # 2, P
            xy = a @ c.t()
            var = a @ (c.t() ** 2) - xy ** 2
            peak = flat.max(1).values.unsqueeze(1)
            mass = torch.log1p(torch.sigmoid(flat).sum(1)).unsqueeze(1)
            return self.summ(torch.cat([fd, xy, peak / 10, mass, var.clamp(min=1e-6).sqrt()], 1))

        def point_feature(self, feats: Any, frame: Any, point: Any) -> Any:
            """Features (N, d) around points (N, 2) in [0, 1] (a one-cell Gaussian window)."""
            c = self.coords.flatten(1)  # 2, P
            dist = ((c.t().unsqueeze(0) - point.unsqueeze(1)) ** 2).sum(-1) * (GRID - 1) ** 2
            w = torch.softmax(-dist, -1)
            return self._per_frame(frame, w, feats.flatten(2).transpose(1, 2))

        # -- items ---------------------------------------------------------------------------
        def mentions(self, feats: Any, depth: Any, frame: Any, ids: Any) -> tuple[Any, Any, Any]:
            """Logits (N, M, G, G; zero where no name), summaries (N, M, d) and presence (N, M) of
            mention ids (N, M, T); only present names are grounded."""
            n, m, t = ids.shape
            has = (ids > 0).any(-1)
            flat = has.reshape(-1)
            idx = flat.nonzero().squeeze(1)
            lg = feats.new_zeros(n * m, GRID, GRID)
            s = feats.new_zeros(n * m, self.summ[0].out_features)
            if idx.numel():
                fr = frame.repeat_interleave(m)[idx]
                sel = self.ground(feats, fr, self.bag(ids.reshape(n * m, t)[idx]))
                lg = lg.index_copy(0, idx, sel)
                s = s.index_copy(0, idx, self.summary(feats, depth, fr, sel))
            return lg.reshape(n, m, GRID, GRID), s.reshape(n, m, -1), has

        def forward(self, feats: Any, depth: Any, b: dict[str, Any]) -> dict[str, Any]:
            """Option scores (N, O; -inf where no option), the named object's grounding logits
            (N, G, G) and placement logits (N, G, G) of a batch of items."""
            fr = b["frame"]
            q = self.question(b["q"], b["qtype"])
            lg, s, _ = self.mentions(feats, depth, fr, b["qm"])
            n = q.shape[0]
            uq = self.queries(q).reshape(n * 2, -1)
            fr2 = fr.repeat_interleave(2)
            sq = self.summary(feats, depth, fr2, self.ground(feats, fr2, uq)).reshape(n, -1)
            pf = self.point_feature(feats, fr, b["point"]) * b["has_point"].unsqueeze(1)
            h = self.ctx(torch.cat([q, s.reshape(n, -1), sq, pf, b["has_point"].unsqueeze(1)], 1))
            o = b["opt"].shape[1]
            ov = self.bag(b["opt"])  # N, O, d
            om = b["om"]  # N, O, M, T
            _, so, hm = self.mentions(feats, depth, fr.repeat_interleave(o), om.reshape(n * o, *om.shape[2:]))
            z = torch.cat([h.unsqueeze(1).expand(-1, o, -1), ov, so.reshape(n, o, -1),
                           hm.reshape(n, o, -1).float()], -1)
            ot = ov + so.reshape(n, o, MAXM, -1).sum(2)
            match = (self.match(h).unsqueeze(1) * ot).sum(-1) / d ** 0.5
            scores = (self.opt(z).squeeze(-1) + match).masked_fill(~b["has_opt"], float("-inf"))
            place = feats.new_zeros(n, GRID, GRID)
            pi = b["is_place"].nonzero().squeeze(1)
            if pi.numel():
                g, bt = self.place_film(q[pi]).chunk(2, -1)
                pin = torch.cat([feats[fr[pi]] * (1 + g[:, :, None, None]) + bt[:, :, None, None], lg[pi]], 1)
                place = place.index_copy(0, pi, self.place(pin).squeeze(1))
            return {"scores": scores, "ground": lg[:, 0], "place": place}

    MAXM = int(cfg.get("max_mentions", 3))
    return Reader()
