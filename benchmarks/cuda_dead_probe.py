"""Probe (GPU session, issue 4): on CUDA, ZSSR with the estimated kernel gave exactly bicubic on Set14 img_009 x2.

    python benchmarks/cuda_dead_probe.py set14/img_009_SRF_2_HR [cuda|cpu] [--all]

Images from .devdata/hr (copies of ../shared/data/hr). It trains ZSSR once (seed 0, bf16) and prints
what the trained net looks like: active units per ReLU, weight sizes, one batch's gradients. With
--all it first runs bf16/fp32 x seeds 0/1 and prints each result with its validation history.
"""
import sys
import time

import torch

from solosr.bench import config_with, synthetic_cases
from solosr.config import preset
from solosr.metrics import psnr_y, quantize
from solosr.pipeline import upscale
from solosr.resize import imresize_np

name = sys.argv[1]
dev = sys.argv[2] if len(sys.argv) > 2 else "cuda"
case = next(c for c in synthetic_cases([".devdata/hr/set5", ".devdata/hr/set14"], 2, 0) if c.name == name)
print(case.name, case.lr.shape, "bicubic", round(psnr_y(imresize_np(case.lr, 2), case.hr, 2), 2), flush=True)
for amp in ((True, False) if "--all" in sys.argv else ()):
    for seed in (0, 1):
        cfg = config_with(preset("fast").replace(method="zssr"), train={"amp": amp})
        t0 = time.time()
        r = upscale(case.lr, 2, kernel="auto", config=cfg, seed=seed, noise=0.0, jpeg="off", device=dev)
        print(f"amp {amp} seed {seed}: {psnr_y(quantize(r.image), case.hr, 2):.2f} dB {time.time() - t0:.0f} s "
              f"restarts {sum('restarted' in h for h in r.history)} warnings {r.warnings} "
              f"val_l1 {[round(h['val_l1'], 4) for h in r.history]}",
              flush=True)

# What the stuck net looks like: active units per ReLU of the body on the validation input, size of
# each conv's weights, gradient of each conv on one batch.
import solosr.pipeline as pl  # noqa: E402

caught = {}
original = pl.train_network


def spy(net, sampler, val_pair, cfg, **kw):
    h = original(net, sampler, val_pair, cfg, **kw)
    caught.update(net=net, sampler=sampler, val=val_pair)
    return h


pl.train_network = spy
r = upscale(case.lr, 2, kernel="auto", config=preset("fast").replace(method="zssr"), seed=0, noise=0.0, jpeg="off",
            device=dev)
net, sampler, (vin, vout) = caught["net"], caught["sampler"], caught["val"]
print("again:", round(psnr_y(quantize(r.image), case.hr, 2), 2), "dB")
d = torch.device(dev)
x = vin.to(d)
with torch.no_grad(), torch.autocast(d.type, dtype=torch.bfloat16):
    h = x
    for i, layer in enumerate(net.body):
        h = layer(h)
        if isinstance(layer, torch.nn.ReLU):
            print(f"relu {i}: active {float((h > 0).float().mean()):.4f}, channels alive "
                  f"{int(((h > 0).flatten(2).any(-1)).any(0).sum())}/{h.shape[1]}")
for name, p in net.named_parameters():
    print(name, "abs mean", f"{float(p.abs().mean()):.3e}", "finite", bool(torch.isfinite(p).all()))
net.train()
son, father = sampler.sample()
with torch.autocast(d.type, dtype=torch.bfloat16):
    out = net(son.to(d))
loss = torch.nn.functional.l1_loss(out.float(), father.to(d).float())
loss.backward()
print("loss", float(loss), "grads", [f"{float(p.grad.abs().mean()):.2e}" for p in net.parameters()])
