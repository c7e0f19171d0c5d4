#!/usr/bin/env python3
"""train's learning-rate schedules against torch.optim.lr_scheduler, at
every step of a run.

schedule-dump (test/numeric/ScheduleDump.cpp) prints the rate that
runtime/lib/Schedule.cpp gives each step; the reference is what a PyTorch
user writes for the recipe, stepped once per optimizer step:
  constant   no scheduler
  step       MultiStepLR(milestones = at, gamma = factor), stepped once per
             epoch (after the epoch's last step)
  cosine     CosineAnnealingLR(T_max = the steps after warm-up, eta_min =
             min_lr); with a period, CosineAnnealingWarmRestarts(T_0 =
             period * steps per epoch, T_mult = period_mult, eta_min)
  one_cycle  OneCycleLR(max_lr, total_steps, pct_start), cosine annealing,
             momentum not cycled
and `warmup = N` (docs/dsl.md: "ramps the rate up linearly to its scheduled
value over the first N epochs") a LinearLR from 1/W to 1 over the first W =
N * steps per epoch steps, chained as each schedule's documentation
(runtime/include/resnetrt/Schedule.h) says: cosine starts after it
(SequentialLR), while constant and step are scaled by it (both schedulers
stepped on one optimizer, whose rate is then their product).
W must be a whole number of steps for the reference to exist: a fractional
warm-up is checked with an epoch length that makes it one.
Each setting passes when every step's rate is within --tolerance (1e-6)
relative of PyTorch's. Prints one line per setting and a closing `N passed,
M failed` line.
"""

import argparse
import subprocess
import sys
import warnings

import torch

# (train's schedule flags, steps per epoch, steps in the run).
SETTINGS = [
    ({'schedule': 'constant', 'lr': 0.1}, 10, 30),
    ({'schedule': 'constant', 'lr': 0.4, 'warmup-epochs': 2}, 10, 50),
    ({'schedule': 'constant', 'lr': 0.4, 'warmup-epochs': 0.5}, 10, 30),
    ({'schedule': 'step', 'lr': 0.1, 'schedule-at': [2, 4],
      'schedule-factor': 0.1}, 10, 60),
    # --steps ends the run inside an epoch.
    ({'schedule': 'step', 'lr': 0.1, 'schedule-at': [3, 5],
      'schedule-factor': 0.2}, 7, 40),
    ({'schedule': 'step', 'lr': 0.1, 'schedule-at': [1, 3, 4],
      'schedule-factor': 0.5, 'warmup-epochs': 1}, 8, 48),
    # step(at = range(1, 6), factor = 0.98), a quarter-epoch warm-up.
    ({'schedule': 'step', 'lr': 0.05, 'schedule-at': list(range(1, 6)),
      'schedule-factor': 0.98, 'warmup-epochs': 0.25}, 12, 72),
    # A warm-up that outlasts two milestones ramps to the rate they set.
    ({'schedule': 'step', 'lr': 0.1, 'schedule-at': [1, 3],
      'schedule-factor': 0.1, 'warmup-epochs': 2}, 5, 30),
    ({'schedule': 'cosine', 'lr': 0.1}, 10, 100),
    ({'schedule': 'cosine', 'lr': 0.1, 'min-lr': 0.001}, 10, 100),
    ({'schedule': 'cosine', 'lr': 0.1, 'warmup-epochs': 2}, 10, 120),
    ({'schedule': 'cosine', 'lr': 0.2, 'min-lr': 1e-4,
      'warmup-epochs': 1.5}, 4, 50),
    # Warm restarts: cycles of 3, 6 and 12 epochs, the last cut by the run;
    # with a floor, a constant length, and after a warm-up.
    ({'schedule': 'cosine', 'lr': 0.1, 'cosine-period': 3,
      'cosine-period-mult': 2}, 10, 25),
    ({'schedule': 'cosine', 'lr': 0.1, 'min-lr': 0.01, 'cosine-period': 2},
     7, 9),
    ({'schedule': 'cosine', 'lr': 0.2, 'cosine-period': 1,
      'cosine-period-mult': 3, 'warmup-epochs': 1}, 6, 30),
    ({'schedule': 'one_cycle', 'lr': 0.1, 'max-lr': 1.0,
      'pct-start': 0.3}, 10, 100),
    # The peak between two steps; the peak defaults to lr.
    ({'schedule': 'one_cycle', 'lr': 0.05, 'pct-start': 0.25}, 5, 37),
    # The rise shorter than one step: annealing from the first step.
    ({'schedule': 'one_cycle', 'lr': 0.1, 'pct-start': 0.05}, 10, 10),
    # No rise at all (the DSL's pct_start = 0).
    ({'schedule': 'one_cycle', 'lr': 0.1, 'pct-start': 0.0}, 10, 20),
]

def flag_text(flags):
    return ' '.join(f'--{k}=' + (','.join(map(str, v)) if isinstance(v, list)
                                 else str(v)) for k, v in flags.items())


def ours(dump, flags, steps_per_epoch, steps):
    """Schedule.cpp's rate of each step, from schedule-dump."""
    command = [dump] + flag_text(flags).split() + [
        f'--steps-per-epoch={steps_per_epoch}', f'--steps={steps}']
    out = subprocess.run(command, check=True, capture_output=True,
                         text=True).stdout
    return [float(line) for line in out.split()]


def warmup_steps(flags, steps_per_epoch):
    steps = flags.get('warmup-epochs', 0) * steps_per_epoch
    if steps != int(steps):
        raise ValueError(f'{flag_text(flags)}: a warm-up of {steps} steps '
                         'has no PyTorch reference')
    return int(steps)


def linear_warmup(optimizer, steps):
    """LinearLR from 1/steps (the first step) to 1 (the last)."""
    return torch.optim.lr_scheduler.LinearLR(
        optimizer, start_factor=1.0 / steps, end_factor=1.0,
        total_iters=max(steps - 1, 1))


def theirs(flags, steps_per_epoch, steps):
    """The rate PyTorch's schedulers give each step."""
    lr = flags['lr']
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    schedulers = torch.optim.lr_scheduler
    kind = flags['schedule']
    warmup = warmup_steps(flags, steps_per_epoch)
    per_step, per_epoch = [], []
    if kind == 'one_cycle':
        per_step.append(schedulers.OneCycleLR(
            optimizer, max_lr=flags.get('max-lr', lr), total_steps=steps,
            pct_start=flags.get('pct-start', 0.3), anneal_strategy='cos',
            cycle_momentum=False, div_factor=25.0, final_div_factor=1e4))
    elif kind == 'cosine':
        if flags.get('cosine-period', 0):
            cosine = schedulers.CosineAnnealingWarmRestarts(
                optimizer, T_0=flags['cosine-period'] * steps_per_epoch,
                T_mult=flags.get('cosine-period-mult', 1),
                eta_min=flags.get('min-lr', 0))
        else:
            cosine = schedulers.CosineAnnealingLR(
                optimizer, T_max=steps - warmup,
                eta_min=flags.get('min-lr', 0))
        per_step.append(schedulers.SequentialLR(
            optimizer, [linear_warmup(optimizer, warmup), cosine],
            milestones=[warmup]) if warmup else cosine)
    else:
        if warmup:
            per_step.append(linear_warmup(optimizer, warmup))
        if kind == 'step':
            per_epoch.append(schedulers.MultiStepLR(
                optimizer, milestones=flags['schedule-at'],
                gamma=flags.get('schedule-factor', 0.1)))
    rates = []
    for step in range(1, steps + 1):
        rates.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        for scheduler in per_step:
            scheduler.step()
        if step % steps_per_epoch == 0:
            for scheduler in per_epoch:
                scheduler.step()
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--schedule-dump', required=True,
                        help='the schedule-dump program')
    parser.add_argument('--tolerance', type=float, default=1e-6)
    args = parser.parse_args()
    # SequentialLR passes an epoch to the scheduler it switches to, which
    # PyTorch deprecates (and then uses the closed form, as wanted here).
    warnings.filterwarnings('ignore', category=UserWarning,
                            module='torch.optim.lr_scheduler')

    failed = 0
    for flags, steps_per_epoch, steps in SETTINGS:
        mine = ours(args.schedule_dump, flags, steps_per_epoch, steps)
        reference = theirs(flags, steps_per_epoch, steps)
        errors = [abs(a - b) / abs(b) for a, b in zip(mine, reference)]
        worst = max(range(steps), key=lambda s: errors[s])
        ok = len(mine) == steps and errors[worst] <= args.tolerance
        failed += not ok
        print(f'{"ok  " if ok else "FAIL"} {errors[worst]:.2e} <= '
              f'{args.tolerance:.0e}  {flag_text(flags)}, '
              f'{steps_per_epoch} steps an epoch, {steps} steps (worst at '
              f'step {worst + 1}: {mine[worst]:.9g} against '
              f'{reference[worst]:.9g})')
    print(f'schedules: {len(SETTINGS) - failed} passed, {failed} failed')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
