// Quality status of the data a page shows, from a loader's `quality` (readCheckedSnapshot in
// src/quality/snapshot.ts): a small badge linking to the Data quality page, and a warning block
// when newer data failed its checks and the page shows an older, good version.

const COLORS = {
  pass: ["#e6f4ea", "#1e6b34"],
  warn: ["#fff4e0", "#8a5300"],
  fail: ["#fde8e8", "#a11b1b"],
  unchecked: ["#eef0f3", "#4a5160"],
};

const LABELS = { pass: "passed", warn: "passed with warnings", fail: "failed", unchecked: "not checked" };

/** A badge: "Data quality: passed · curated/prices v3", linking to the Data quality page. */
export function qualityBadge(quality) {
  const status = quality?.warning ? "warn" : (quality?.status ?? "unchecked");
  const [background, color] = COLORS[status] ?? COLORS.unchecked;
  const badge = document.createElement("a");
  badge.href = "./quality";
  badge.className = `lb-quality-badge lb-quality-${status}`;
  badge.dataset.testid = "quality-badge";
  badge.dataset.status = status;
  Object.assign(badge.style, {
    background,
    color,
    borderRadius: "999px",
    padding: "0.1rem 0.6rem",
    fontSize: "0.85rem",
    fontWeight: "600",
    textDecoration: "none",
  });
  const what = quality ? ` · ${quality.zone}/${quality.dataset} v${quality.version}` : "";
  badge.textContent = `Data quality: ${quality?.warning ? "showing last good version" : LABELS[status]}${what}`;
  if (quality?.validatedAt) badge.title = `validated ${quality.validatedAt}`;
  return badge;
}

/** A warning block when the page shows an older version because newer data failed; else nothing. */
export function qualityWarning(quality) {
  if (!quality?.warning) return document.createDocumentFragment();
  const [background, color] = COLORS.warn;
  const block = document.createElement("div");
  block.className = "lb-quality-warning";
  block.setAttribute("role", "alert");
  block.dataset.testid = "quality-warning";
  Object.assign(block.style, {
    background,
    color,
    border: `1px solid ${color}`,
    borderRadius: "6px",
    padding: "0.6rem 0.9rem",
    margin: "1rem 0",
    maxWidth: "none",
  });
  const title = document.createElement("strong");
  title.textContent = "⚠ Data quality warning. ";
  const link = document.createElement("a");
  link.href = "./quality";
  link.textContent = "See the failed checks.";
  block.append(title, `${quality.warning} `, link);
  return block;
}
