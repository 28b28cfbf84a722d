// What the metrics browser and the dashboards share: the statistic, period and time-range
// choices, and reading series through GetMetricData (one call for all a graph's metrics, paged
// by NextToken), on the virtual clock's time.
import { cloudwatch } from "../api.js";
import { select } from "../dom.js";
import { t } from "../i18n.js";
import { clockNow } from "../workshop.js";

export const STATS = ["Average", "Minimum", "Maximum", "Sum", "SampleCount"];
export const PERIODS = [60, 300, 900, 3600];
/** Time ranges, in seconds back from the virtual clock's now. */
export const RANGES = [3600, 3 * 3600, 12 * 3600, 86400, 7 * 86400];

export const statSelect = (value) => select("Stat", STATS.map((s) => [s, t(`stat.${s}`)]), value);
export const periodSelect = (value) => select("Period", PERIODS.map((p) => [String(p), t(`period.${p}`)]), String(value));
export const rangeSelect = (value) => select("Range", RANGES.map((r) => [String(r), t(`range.${r}`)]), String(value));

/** "InstanceId=i-1, …" (or the catalogue's "no dimensions"). */
export const dimText = (dims) => (dims && dims.length ? dims.map((d) => `${d.Name}=${d.Value}`).join(", ") : t("metrics.noDims"));

/**
 * Points of each metric over the last `range` seconds: metrics are
 * [{Namespace, MetricName, Dimensions, stat, period}], the answer [[{t, v}], …] in that order.
 */
export async function series(metrics, range, region) {
  if (!metrics.length) return [];
  const end = clockNow() + 60;
  const queries = metrics.map((m, i) => ({
    Id: `m${i}`,
    MetricStat: { Metric: { Namespace: m.Namespace, MetricName: m.MetricName, Dimensions: m.Dimensions || [] }, Period: m.period, Stat: m.stat },
    ReturnData: true,
  }));
  const out = metrics.map(() => []);
  let token;
  // A week of 1-minute points is 10,080 per metric: a few pages at most.
  for (let page = 0; page < 20; page++) {
    const r = await cloudwatch("GetMetricData", { MetricDataQueries: queries, StartTime: end - range, EndTime: end, ScanBy: "TimestampAscending", NextToken: token }, region);
    for (const res of r.MetricDataResults || []) {
      const i = Number(String(res.Id).slice(1));
      (res.Timestamps || []).forEach((ts, k) => out[i].push({ t: Number(ts), v: res.Values[k] }));
    }
    token = r.NextToken;
    if (!token) break;
  }
  return out;
}
