"""The driver of benches/fleet-watch: runs cfdeploy and a boto3 floor over the same work against
the emulator and prints the figures. Not a test: nothing is asserted."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import boto3

CFDEPLOY, ENDPOINT, WORK, DELAY, LIMIT = sys.argv[1:6]
SIZES = [int(s) for s in sys.argv[6:]]
WORK_DIR = Path(WORK)
DELAY_S = float(DELAY)
WATCHING = {"ListStacks", "DescribeStacks", "DescribeStackEvents"}
cfn = boto3.client("cloudformation")


def control(path: str, payload: dict | None = None, method: str = "POST") -> dict:
    data = json.dumps(payload).encode() if payload is not None else None
    with urllib.request.urlopen(urllib.request.Request(f"{ENDPOINT}/_emulator/{path}", data=data, method=method)) as r:
        body = r.read()
    return json.loads(body) if body else {}


def counted() -> dict[str, int]:
    with urllib.request.urlopen(f"{ENDPOINT}/_emulator/requests") as r:
        d = json.load(r)
    d.pop("_throttled", None)
    return d


def fleet(prefix: str, n: int, visibility: int) -> Path:
    path = WORK_DIR / f"{prefix}.yaml"
    templates = WORK_DIR / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "service.yaml").write_text(Path("stacks/templates/service.yaml").read_text())
    lines = [
        "defaults:",
        "  region: us-east-1",
        "  template: templates/service.yaml",
        f'  parameters: {{Environment: prod, VisibilityTimeout: {visibility}, ApiToken: "${{env:CFDEPLOY_API_TOKEN}}"}}',
        "stacks:",
    ]
    lines += [f"  {prefix}-{i:03}:\n    parameters: {{ServiceName: {prefix}{i:03}}}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def last_operation_end(names: list[str]) -> float:
    """When the last stack's last operation ended in the emulator (epoch seconds)."""
    latest = 0.0
    for name in names:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        stack_events = [e for e in events if e["LogicalResourceId"] == name]
        if stack_events:
            latest = max(latest, stack_events[0]["Timestamp"].timestamp())
    return latest


class Phase:
    def __init__(self, label: str, n: int):
        self.label, self.n = label, n

    def __enter__(self):
        control("requests", method="DELETE")
        self.start = time.time()
        return self

    def __exit__(self, *exc):
        self.end = time.time()
        self.calls = counted()

    @property
    def wall(self) -> float:
        return self.end - self.start

    def per_stack(self) -> str:
        total = sum(self.calls.values())
        by = ", ".join(f"{k} {v / self.n:.2f}" for k, v in sorted(self.calls.items()))
        return f"{total / self.n:.2f} calls/stack ({by})"

    def watching_rate(self, watch_seconds: float) -> float:
        return sum(v for k, v in self.calls.items() if k in WATCHING) / max(watch_seconds, 1e-9)


def run_cfdeploy(config: Path, *args: str) -> tuple[float, int]:
    """Runs cfdeploy; returns its peak memory in MiB and exit status."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    proc = subprocess.run([CFDEPLOY, "--config", str(config), *args], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 2):
        print(f"    cfdeploy exited {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")
    return max(peak, before) / 1024, proc.returncode


def floor_plan(names: list[str], visibility: int, create: bool) -> dict[str, str]:
    """Creates and waits for one change set per stack from one process: the fewest calls."""
    body = Path("stacks/templates/service.yaml").read_text()
    arns = {}
    for name in names:
        params = [{"ParameterKey": "ServiceName", "ParameterValue": name.replace("-", "")},
                  {"ParameterKey": "Environment", "ParameterValue": "prod"},
                  {"ParameterKey": "VisibilityTimeout", "ParameterValue": str(visibility)},
                  {"ParameterKey": "ApiToken", "ParameterValue": "bench-token"}]
        out = cfn.create_change_set(StackName=name, ChangeSetName=f"floor-{int(time.time() * 1000)}",
                                    ChangeSetType="CREATE" if create else "UPDATE",
                                    TemplateBody=body, Parameters=params)
        arns[name] = out["Id"]
    for name, arn in arns.items():
        while cfn.describe_change_set(ChangeSetName=arn)["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
            time.sleep(0.25)
    return arns


def floor_apply(arns: dict[str, str]) -> None:
    """Executes every change set, then watches them all with DescribeStacks once a second."""
    for arn in arns.values():
        cfn.execute_change_set(ChangeSetName=arn)
    running = set(arns)
    while running:
        time.sleep(1)
        for name in list(running):
            status = cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
            if not status.endswith("_IN_PROGRESS"):
                running.discard(name)


def report(label: str, ours: Phase, floor: Phase, lateness: tuple[float, float] | None,
           memory: float | None = None, rates: tuple[float, float] | None = None) -> None:
    print(f"  {label}")
    extra = f", peak {memory:.0f} MiB" if memory is not None else ""
    late = ""
    if lateness:
        late = f", finished {lateness[0]:.2f} s after the last operation (floor {lateness[1]:.2f} s)"
    print(f"    cfdeploy: {ours.wall:.2f} s{late}{extra}")
    print(f"      {ours.per_stack()}")
    print(f"    boto3 floor: {floor.wall:.2f} s")
    print(f"      {floor.per_stack()}")
    ratio_calls = sum(ours.calls.values()) / max(sum(floor.calls.values()), 1)
    print(f"    ratios cfdeploy/floor: time {ours.wall / max(floor.wall, 1e-9):.2f}×, calls {ratio_calls:.2f}×")
    if rates:
        print(f"    requests/s while watching: cfdeploy {rates[0]:.1f}, floor {rates[1]:.1f}")


def bench(n: int) -> None:
    print(f"\n{n} stacks")
    control("settings", {"delay": DELAY_S, "rate_limit": float(LIMIT)})
    ours_cfg = fleet("fw", n, 30)
    names = [f"fw-{i:03}" for i in range(n)]
    floor_names = [f"fl-{i:03}" for i in range(n)]
    plan_file = WORK_DIR / "plan.json"

    for phase, visibility, create in (("create", 30, True), ("update", 45, False)):
        ours_cfg = fleet("fw", n, visibility)
        with Phase("plan", n) as ours_plan:
            memory_plan, _ = run_cfdeploy(ours_cfg, "plan", "--out", str(plan_file), "--format", "json")
        with Phase("plan", n) as floor_plan_phase:
            arns = floor_plan(floor_names, visibility, create)
        report(f"plan ({phase}s)", ours_plan, floor_plan_phase, None, memory_plan)

        with Phase("apply", n) as ours_apply:
            memory_apply, _ = run_cfdeploy(ours_cfg, "apply", "--plan", str(plan_file), "--format", "json")
        ours_late = ours_apply.end - last_operation_end(names)
        with Phase("apply", n) as floor_apply_phase:
            floor_apply(arns)
        floor_late = floor_apply_phase.end - last_operation_end(floor_names)
        # Watching lasts from the first execution to the end; executing is quick next to it.
        rates = (ours_apply.watching_rate(ours_apply.wall), floor_apply_phase.watching_rate(floor_apply_phase.wall))
        report(f"apply ({phase}s)", ours_apply, floor_apply_phase, (ours_late, floor_late), memory_apply, rates)

    # Leave nothing for the next size.
    control("settings", {"delay": 0.0, "rate_limit": 0.0})
    for name in names + floor_names:
        cfn.delete_stack(StackName=name)


for size in SIZES:
    bench(size)
print(f"\n(at {datetime.now(timezone.utc).isoformat(timespec='seconds')})")
