"""Measures how soon gh-oidc notices that a stack operation finished, and its peak memory.

Run by scripts/bench, against an emulator whose OIDC provider takes GH_OIDC_EMULATOR_DELAY
seconds per operation, like a real stack that takes a while. The lag is the time from the
stack's final event to the tool's exit: the part of every wait that the polling adds.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import boto3

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))
BINARY = sys.argv[1]
ENDPOINT = os.environ["AWS_ENDPOINT_URL"]
DELAY = float(os.environ["GH_OIDC_EMULATOR_DELAY"])
ACCOUNT = "123456789012"

cfn = boto3.client(
    "cloudformation",
    endpoint_url=ENDPOINT,
    region_name="us-east-1",
    aws_access_key_id=ACCOUNT,
    aws_secret_access_key="bench",
)


def run(*args):
    """Runs the tool; returns (wall seconds, exit time, peak RSS in MiB, stdout)."""
    # GNU time reports the peak RSS of the tool itself (a fork of this Python would count
    # Python's own memory).
    with tempfile.NamedTemporaryFile("r") as rss:
        started = time.time()
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", "-o", rss.name, BINARY, *args, "--profile", "bench"],
            capture_output=True,
            text=True,
        )
        ended = time.time()
        if done.returncode != 0:
            sys.exit(f"gh-oidc {' '.join(args)} failed:\n{done.stderr}")
        return ended - started, ended, int(rss.read().split()[-1]) / 1024, done.stdout


def final_event_time(stack_id, status):
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    final = next(e for e in events if e["ResourceType"] == "AWS::CloudFormation::Stack" and e["ResourceStatus"] == status)
    return final["Timestamp"].timestamp()


# The emulator loads each service on first use; keep that out of the numbers.
run("setup", "--yes")
run("teardown", "--stack-name", "gh-oidc-provider", "--yes")

rows = {"setup": [], "teardown": []}
peak_rss = 0.0
for _ in range(ROUNDS):
    wall, ended, rss, out = run("setup", "--yes", "--output", "json")
    stack_id = json.loads(out)["stack_id"]
    rows["setup"].append((wall, ended - final_event_time(stack_id, "CREATE_COMPLETE")))
    peak_rss = max(peak_rss, rss)
    wall, ended, rss, _ = run("teardown", "--stack-name", "gh-oidc-provider", "--yes")
    rows["teardown"].append((wall, ended - final_event_time(stack_id, "DELETE_COMPLETE")))
    peak_rss = max(peak_rss, rss)

print(f"\nResource operations take {DELAY:g} s each on the emulator; {ROUNDS} rounds.\n")
print(f"| {'command':<8} | {'wall mean (s)':>13} | {'lag mean (s)':>12} | {'lag max (s)':>11} | {'target lag (s)':>14} | {'fixed 5 s poll, lag mean/max (s)':>32} |")
print(f"|{'-' * 10}|{'-' * 15}|{'-' * 14}|{'-' * 13}|{'-' * 16}|{'-' * 34}|")
failed = False
for command, samples in rows.items():
    walls = [w for w, _ in samples]
    lags = [lag for _, lag in samples]
    ok = max(lags) <= 2.0
    failed |= not ok
    print(
        f"| {command:<8} | {statistics.mean(walls):>13.2f} | {statistics.mean(lags):>12.2f} | {max(lags):>11.2f} | "
        f"{'<= 2.00 ' + ('ok' if ok else 'MISSED'):>14} | {'2.50 / 5.00':>32} |"
    )
rss_ok = peak_rss <= 32
failed |= not rss_ok
print(f"\nPeak memory of one run: {peak_rss:.1f} MiB (target <= 32 MiB: {'ok' if rss_ok else 'MISSED'}).")
sys.exit(1 if failed else 0)
