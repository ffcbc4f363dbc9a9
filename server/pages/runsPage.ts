/**
 * `/runs`: run history rendered on the server, kept live by Server-Sent Events
 * (`/api/runs/events`): status changes update the table, log lines of the selected run stream
 * into the log panel, for runs executing on any server sharing the store. No off-origin
 * resources; the script is allowed by its hash.
 */
import type { Response } from "express";
import type { Run, User, Session, WorkerRecord } from "../../src/store/index.ts";
import { escapeHtml, sendPage } from "./html.ts";

const SCRIPT = `
const table = document.querySelector("#runs tbody");
const logs = document.querySelector("#logs");
const title = document.querySelector("#log-title");
const csrf = document.body.dataset.csrf;
let selected = null;
function cell(text, cls) { const td = document.createElement("td"); td.textContent = text ?? ""; if (cls) td.className = cls; return td; }
function render(run) {
  let row = document.getElementById("run-" + run.id);
  if (!row) { row = document.createElement("tr"); row.id = "run-" + run.id; table.prepend(row); }
  document.querySelector("#runs-empty")?.remove();
  document.querySelector("#runs-panel").hidden = false;
  row.replaceChildren(
    cell(run.id), cell(run.parentId ? run.job + " of " + run.parentId : run.job), cell(run.status, "status-" + run.status),
    cell(run.attempt + "/" + run.maxAttempts), cell(run.workerId ?? ""),
    cell(run.progress == null ? "" : Math.round(run.progress * 100) + "%"),
    cell(run.startedAt ? new Date(run.startedAt).toISOString().slice(0, 19).replace("T", " ") : ""),
    cell(run.error ?? ""));
  row.dataset.id = run.id;
}
async function select(id) {
  selected = id;
  title.textContent = "Log of " + id;
  const response = await fetch("/api/runs/" + encodeURIComponent(id) + "/logs", { headers: { accept: "application/json" } });
  const body = await response.json();
  logs.textContent = (body.lines ?? []).map((l) => l.level + "  " + l.message).join("\\n");
}
table.addEventListener("click", (event) => { const row = event.target.closest("tr"); if (row?.dataset.id) select(row.dataset.id); });
const events = new EventSource("/api/runs/events");
events.addEventListener("run", (event) => render(JSON.parse(event.data)));
events.addEventListener("log", (event) => {
  const line = JSON.parse(event.data);
  if (selected === null) { selected = line.runId; title.textContent = "Log of " + line.runId; logs.textContent = ""; }
  if (line.runId === selected) { logs.textContent += (logs.textContent ? "\\n" : "") + line.level + "  " + line.message; logs.scrollTop = logs.scrollHeight; }
});
for (const button of document.querySelectorAll("button[data-job]")) {
  button.addEventListener("click", async () => {
    const response = await fetch("/api/runs", { method: "POST", headers: { "content-type": "application/json", "x-csrf-token": csrf }, body: JSON.stringify({ job: button.dataset.job }) });
    if (!response.ok) alert((await response.json()).error?.message ?? response.statusText);
  });
}
`;

export function sendRunsPage(
  res: Response,
  options: {
    runs: readonly Run[];
    jobs: readonly string[];
    user?: User;
    session?: Session;
    canOperate: boolean;
    /** Workers heard from lately (PostgreSQL queue); none in the embedded mode. */
    workers?: readonly WorkerRecord[];
    /** A worker silent for longer than this is presumed dead (its runs go to other workers). */
    silentAfterMs?: number;
    now?: Date;
  },
): void {
  const now = options.now ?? new Date();
  const silentAfterMs = options.silentAfterMs ?? 30_000;
  const workerRows = (options.workers ?? [])
    .map((worker) => {
      const ageMs = now.getTime() - worker.heartbeatAt.getTime();
      const state = worker.stoppedAt ? "stopped" : ageMs > silentAfterMs ? "silent" : "alive";
      return (
        `<tr class="worker-${state}"><td>${escapeHtml(worker.id)}</td><td>${state}</td>` +
        `<td>${worker.active}/${worker.concurrency}</td>` +
        `<td>${worker.heartbeatAt.toISOString().slice(0, 19).replace("T", " ")} (${Math.max(0, Math.round(ageMs / 1000))} s ago)</td>` +
        `<td>${worker.startedAt.toISOString().slice(0, 19).replace("T", " ")}</td></tr>`
      );
    })
    .join("\n");
  const workersSection = options.workers
    ? `<h2>Workers</h2>
<table id="workers"><thead><tr><th>Worker</th><th>State</th><th>Runs</th><th>Heartbeat</th><th>Started</th></tr></thead>
<tbody>
${workerRows || '<tr><td colspan="5">no worker has heartbeated in the last hour: start one with <code>lakebook worker</code></td></tr>'}
</tbody></table>`
    : "";
  const rows = options.runs
    .map(
      (run) =>
        `<tr id="run-${escapeHtml(run.id)}" data-id="${escapeHtml(run.id)}"><td>${escapeHtml(run.id)}</td><td>${escapeHtml(run.parentId ? `${run.job} of ${run.parentId}` : run.job)}</td>` +
        `<td class="status-${escapeHtml(run.status)}">${escapeHtml(run.status)}</td><td>${run.attempt}/${run.maxAttempts}</td>` +
        `<td>${escapeHtml(run.workerId ?? "")}</td>` +
        `<td>${run.progress === null ? "" : `${Math.round(run.progress * 100)}%`}</td>` +
        `<td>${run.startedAt ? run.startedAt.toISOString().slice(0, 19).replace("T", " ") : ""}</td><td>${escapeHtml(run.error ?? "")}</td></tr>`,
    )
    .join("\n");
  const buttons = options.canOperate
    ? options.jobs
        .map((job) => `<button type="button" data-job="${escapeHtml(job)}">Run ${escapeHtml(job)}</button>`)
        .join(" ")
    : "";
  const account = options.user
    ? `<form method="post" action="/auth/logout">${escapeHtml(options.user.name)} (${escapeHtml(options.user.role)})
<input type="hidden" name="csrf" value="${escapeHtml(options.session?.csrfToken ?? "")}"> <button type="submit">Sign out</button></form>`
    : "";
  sendPage(res, {
    title: "Runs",
    script: SCRIPT,
    body: `<main data-page="runs"><header><h1>Runs</h1>${account}</header>
<p><a href="/">Site</a> · times in UTC · updates live</p>
<p>${buttons}</p>
${
  options.runs.length === 0
    ? `<p id="runs-empty" class="muted">No runs yet. ${
        options.canOperate
          ? "Start one with a button above; it appears here with its progress and log as it runs."
          : "Runs started by a schedule, <code>lakebook build</code> on the server or an analyst appear here live."
      }</p>`
    : ""
}
<div id="runs-panel"${options.runs.length === 0 ? " hidden" : ""}>
<div class="scroll"><table id="runs"><thead><tr><th>Run</th><th>Job</th><th>Status</th><th>Attempt</th><th>Worker</th><th>Progress</th><th>Started</th><th>Error</th></tr></thead>
<tbody>
${rows}
</tbody></table></div>
${workersSection}
<h2 id="log-title">Log</h2><p class="muted">Select a run to see its log.</p><pre id="logs"></pre></div></main>`,
    bodyData: { csrf: options.session?.csrfToken ?? "" },
  });
}
