"""An external agent driving `noctune studio mcp` with the official Python MCP SDK.

Run by crates/noctune-cli/tests/it/mcp.rs (never on its own): it starts the fake OpenAI server
and the fixture repository, then runs this script with the pinned SDK from .tools/mcp-venv.

  python_client.py --noctune BIN --root ROOT --base-url URL --mode MODE --check CHECK

MODE is `legacy` (the initialize handshake) or a modern protocol version (no handshake: the
client context rides in each request's `_meta`). CHECK is `tools` (the tool list and every
schema, a call, an error), `flow` (enqueue -> tail -> approvals -> approve -> applied ->
stop a second run -> stopped), `task` (enqueue_task "add fib(n) with a test" -> tail ->
completed, applied; a second task stopped while it works) or `task-queued` (the same in a repository with `allow_apply = false`:
completed, its files queued -> approved with decide_approval). Any failed check raises: the exit status is non-zero and the
traceback is on stderr. The last stdout line is a JSON summary for the Rust side.
"""

import argparse
import asyncio
import importlib.metadata
import json
import time
from pathlib import Path

from mcp import Client, Implementation, StdioServerParameters

CLIENT_NAME = "noctune-contract-python"

TOOLS = {
    "enqueue_run": (["files", "pack", "profile", "repo_root"], ["pack", "repo_root"]),
    "enqueue_task": (
        ["pack", "paths", "repo_root", "request"],
        ["repo_root", "request"],
    ),
    "get_status": (["run_id"], ["run_id"]),
    "tail_events": (["cursor", "limit", "run_id"], ["run_id"]),
    "list_approvals": (["run_id"], ["run_id"]),
    "decide_approval": (
        ["approval_id", "decision", "reason", "run_id"],
        ["approval_id", "decision", "run_id"],
    ),
    "stop_run": (["run_id"], ["run_id"]),
    "list_runs": ([], []),
    "get_report": (["run_id"], ["run_id"]),
}


def check(condition, message):
    if not condition:
        raise AssertionError(message)


async def call(client, tool, args):
    """A successful call's structured content (schema-validated by the SDK)."""
    result = await client.call_tool(tool, args)
    text = result.content[0].text if result.content else ""
    check(not result.is_error, f"{tool}({args}) failed: {text}")
    check(
        result.structured_content is not None, f"{tool} returned no structured content"
    )
    # The short line for people, then the JSON the structured content serialises to.
    check(len(result.content) == 2, f"{tool}: {len(result.content)} content blocks")
    check(
        json.loads(result.content[1].text) == result.structured_content,
        f"{tool}: text != structured",
    )
    return result.structured_content


async def call_error(client, tool, args, want):
    result = await client.call_tool(tool, args)
    text = result.content[0].text if result.content else ""
    check(
        result.is_error, f"{tool}({args}) should fail, got {result.structured_content}"
    )
    check(want in text, f"{tool}({args}): {text!r} does not say {want!r}")
    return text


async def wait_for(what, probe, timeout=90.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if value:
            return value
        check(time.monotonic() < deadline, f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


async def check_tools(client):
    listed = await client.list_tools()
    names = sorted(tool.name for tool in listed.tools)
    check(names == sorted(TOOLS), f"tools: {names}")
    for tool in listed.tools:
        properties, required = TOOLS[tool.name]
        schema = tool.input_schema
        check(schema.get("type") == "object", f"{tool.name}: input schema {schema}")
        check(
            sorted(schema.get("properties", {})) == properties,
            f"{tool.name}: {schema.get('properties')}",
        )
        check(
            sorted(schema.get("required", [])) == required,
            f"{tool.name}: required {schema.get('required')}",
        )
        for name, prop in schema.get("properties", {}).items():
            check(prop.get("description"), f"{tool.name}.{name} is undocumented")
        check(
            tool.output_schema and tool.output_schema.get("type") == "object",
            f"{tool.name}: no output schema",
        )
        check(
            tool.description and len(tool.description) > 20,
            f"{tool.name}: no description",
        )
    decide = next(t for t in listed.tools if t.name == "decide_approval")
    decision = decide.input_schema["properties"]["decision"]
    check(
        "approve" in json.dumps(decision) and "reject" in json.dumps(decision),
        f"decision schema {decision}",
    )
    return names


async def run_flow(client, root):
    # 1. Enqueue a run on one file; its risky edit is queued for approval.
    queued = await call(
        client,
        "enqueue_run",
        {"repo_root": ".", "pack": "lint_fix", "files": ["a_greet.py"]},
    )
    run_id = queued["run_id"]
    check(queued["status"] == "queued", f"{queued}")

    # 2. Tail events by cursor until the run is over.
    cursor, types = 0, []

    async def tail():
        nonlocal cursor
        page = await call(client, "tail_events", {"run_id": run_id, "cursor": cursor})
        types.extend(e["type"] for e in page["events"])
        check(
            page["next_cursor"] >= cursor,
            f"cursor went back: {page['next_cursor']} < {cursor}",
        )
        cursor = page["next_cursor"]
        return page["done"] and page

    last = await wait_for("the first run to finish", tail)
    check(last["status"] == "completed", f"first run: {last['status']}")
    check(
        "approval_queued" in types and types[-1] == "run_completed", f"events: {types}"
    )

    # 3. One pending approval, with its diff.
    approvals = (await call(client, "list_approvals", {"run_id": run_id}))["approvals"]
    check(
        len(approvals) == 1 and approvals[0]["state"] == "pending",
        f"approvals: {approvals}",
    )
    approval = approvals[0]
    check(
        approval["file"] == "a_greet.py" and 'f"Hello, {name}!"' in approval["diff"],
        f"{approval}",
    )

    # 4. Approve it: a worker resumes the run and applies the change.
    decided = await call(
        client,
        "decide_approval",
        {
            "run_id": run_id,
            "approval_id": approval["approval_id"],
            "decision": "approve",
            "reason": "reviewed",
        },
    )
    check(decided["decision"]["decided_by"] == f"mcp:{CLIENT_NAME}", f"{decided}")

    async def applied():
        status = await call(client, "get_status", {"run_id": run_id})
        text = (root / "a_greet.py").read_text()
        return (
            status["status"] == "completed"
            and status["worker"] is None
            and 'f"Hello' in text
            and status
        )

    await wait_for("the approved change to be applied", applied)
    approvals = (await call(client, "list_approvals", {"run_id": run_id}))["approvals"]
    check(approvals[0]["state"] == "approved", f"{approvals}")
    report = await call(client, "get_report", {"run_id": run_id})
    check("a_greet.py" in report["markdown"], report["markdown"])

    # 5. A second run (a slow model): stop it while it works.
    second = (
        await call(
            client,
            "enqueue_run",
            {"repo_root": ".", "pack": "lint_fix", "files": ["b_total.py"]},
        )
    )["run_id"]

    async def busy():
        page = await call(client, "tail_events", {"run_id": second, "cursor": 0})
        return (
            any(e["type"] == "llm_call" for e in page["events"])
            and page["status"] == "running"
        )

    await wait_for("the second run to call the model", busy)
    stopping = await call(client, "stop_run", {"run_id": second})
    check(stopping["status"] == "stopping", f"{stopping}")

    async def stopped():
        status = await call(client, "get_status", {"run_id": second})
        return status["status"] == "stopped" and status

    await wait_for("the second run to stop", stopped)
    runs = [r["run"]["run_id"] for r in (await call(client, "list_runs", {}))["runs"]]
    check(sorted(runs) == sorted([run_id, second]), f"runs: {runs}")

    # 6. Errors are results with isError, naming the argument.
    await call_error(
        client, "get_status", {"run_id": "no-such-run"}, "unknown `run_id`"
    )
    await call_error(
        client,
        "enqueue_run",
        {"repo_root": "../elsewhere", "pack": "lint_fix"},
        "`repo_root`",
    )
    await call_error(
        client, "enqueue_run", {"repo_root": "/", "pack": "lint_fix"}, "`repo_root`"
    )
    await call_error(client, "enqueue_run", {"repo_root": "."}, "missing field `pack`")
    await call_error(client, "stop_run", {"run_id": second}, "run_final")
    return {"first": run_id, "second": second, "events": len(types)}


async def run_task_flow(client, root, queued):
    # 1. Bad arguments are errors naming the argument; nothing is started.
    await call_error(
        client, "enqueue_task", {"repo_root": ".", "request": "  "}, "`request`"
    )
    await call_error(
        client,
        "enqueue_task",
        {"repo_root": "../elsewhere", "request": "add fib"},
        "`repo_root`",
    )
    await call_error(
        client,
        "enqueue_task",
        {"repo_root": ".", "request": "add fib", "paths": ["../outside"]},
        "bad argument `paths`",
    )
    await call_error(
        client, "enqueue_task", {"repo_root": "."}, "missing field `request`"
    )
    check((await call(client, "list_runs", {}))["runs"] == [], "a refused task started")

    # 2. Enqueue the request; its worker is `noctune task --yes`.
    started = await call(
        client,
        "enqueue_task",
        {"repo_root": ".", "request": "add a function fib(n) with a test"},
    )
    run_id = started["run_id"]
    check(started["status"] == "queued", f"{started}")
    check(Path(started["repo_root"]) == root.resolve(), f"{started}")

    # 3. Tail its events by cursor until it is over, as for any run.
    cursor, types = 0, []

    async def tail():
        nonlocal cursor
        page = await call(client, "tail_events", {"run_id": run_id, "cursor": cursor})
        types.extend(e["type"] for e in page["events"])
        cursor = page["next_cursor"]
        return page["done"] and page

    last = await wait_for("the task to finish", tail, timeout=180.0)
    check(last["status"] == "completed", f"task: {last['status']} after {types}")
    check(types[-1] == "run_completed", f"events: {types}")

    # 4. Its status, approvals and report, through the same tools as a run's.
    status = await call(client, "get_status", {"run_id": run_id})
    check(status["run"]["command"] == "task" and status["worker"] is None, f"{status}")
    task = status["task"]
    check(task["request"] == "add a function fib(n) with a test", f"{task}")
    check(
        task["outcome"]["outcome"] == ("queued" if queued else "applied"),
        f"{task}",
    )
    check("pkg/maths.py" in task["summary"], f"{task}")
    approvals = (await call(client, "list_approvals", {"run_id": run_id}))["approvals"]
    report = await call(client, "get_report", {"run_id": run_id})
    check("pkg/maths.py" in report["markdown"], report["markdown"])
    decided_by = None
    if queued:
        check("approval_queued" in types and "applied" not in types, f"events: {types}")
        files = sorted(a["file"] for a in approvals)
        check(files == ["pkg/maths.py", "tests/test_maths.py"], f"{approvals}")
        for approval in approvals:
            check(approval["state"] == "pending", f"{approval}")
            decided = await call(
                client,
                "decide_approval",
                {
                    "run_id": run_id,
                    "approval_id": approval["approval_id"],
                    "decision": "approve",
                },
            )
            decided_by = decided["decision"]["decided_by"]
            check(decided_by == f"mcp:{CLIENT_NAME}", f"{decided}")
        approvals = (await call(client, "list_approvals", {"run_id": run_id}))[
            "approvals"
        ]
        check(all(a["state"] == "approved" for a in approvals), f"{approvals}")
    else:
        check(types.count("applied") == 2, f"events: {types}")
    await call_error(client, "stop_run", {"run_id": run_id}, "run_final")
    stopped = None
    if not queued:
        # 5. A second task (a slow model): stop it while it works.
        stopped = (
            await call(
                client,
                "enqueue_task",
                {"repo_root": ".", "request": "add a function lucas(n) with a test"},
            )
        )["run_id"]

        async def running():
            status = await call(client, "get_status", {"run_id": stopped})
            return status["status"] == "running"

        await wait_for("the second task to run", running)
        stopping = await call(client, "stop_run", {"run_id": stopped})
        check(stopping["status"] == "stopping", f"{stopping}")

        async def is_stopped():
            status = await call(client, "get_status", {"run_id": stopped})
            return status["status"] == "stopped" and status["worker"] is None and status

        last = await wait_for("the second task to stop", is_stopped)
        check(
            last["task"]
            == {
                "request": "add a function lucas(n) with a test",
                "outcome": None,
                "summary": None,
            },
            f"{last['task']}",
        )
    return {
        "run_id": run_id,
        "stopped": stopped,
        "events": types,
        "decided_by": decided_by,
    }


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--noctune", required=True)
    parser.add_argument("--root", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--mode", required=True)
    parser.add_argument(
        "--check", choices=["tools", "flow", "task", "task-queued"], required=True
    )
    args = parser.parse_args()
    root = Path(args.root)
    server = StdioServerParameters(
        command=args.noctune,
        args=["studio", "mcp", "--root", args.root],
        env={"NOCTUNE_BASE_URL": args.base_url, "NOCTUNE_LOG": "info"},
        cwd=args.root,
    )
    async with Client(
        server,
        mode=args.mode,
        client_info=Implementation(name=CLIENT_NAME, version="1.0"),
        read_timeout_seconds=60,
    ) as client:
        info = client.server_info
        check(info is not None and info.name == "noctune", f"server info: {info}")
        summary = {
            "sdk": importlib.metadata.version("mcp"),
            "protocol_version": client.protocol_version,
            "server": {"name": info.name, "version": info.version},
            "tools": await check_tools(client),
        }
        if args.check == "flow":
            summary["flow"] = await run_flow(client, root)
        elif args.check in ("task", "task-queued"):
            summary["task"] = await run_task_flow(
                client, root, args.check == "task-queued"
            )
        else:
            await call(client, "list_runs", {})
            await call_error(
                client, "get_status", {"run_id": "no-such-run"}, "unknown `run_id`"
            )
    print(json.dumps(summary))


if __name__ == "__main__":
    asyncio.run(main())
