/**
 * A strict parser of Prometheus' text exposition format 0.0.4, for tests: every line is a HELP, a
 * TYPE, a comment or a sample, or it throws, naming the line. It also holds the output to the
 * format's rules that lenient scrapers forgive: a family's TYPE and HELP at most once and before
 * its samples, its samples together, no series twice, histogram and summary series named as
 * their type says, values that are floats, label values only with the three escapes.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Family {
  name: string;
  type: MetricType;
  help: string | null;
  samples: Sample[];
}

const metricName = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const labelName = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const types = new Set<string>(["counter", "gauge", "histogram", "summary", "untyped"]);

/** The families of `text`, by name. */
export function parsePrometheusText(text: string): Map<string, Family> {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the exposition must end with \\n");
  const families = new Map<string, Family>();
  const seriesSeen = new Set<string>();
  const closed = new Set<string>();
  const typed = new Set<string>();
  let current: Family | null = null;
  const lines = text.split("\n").slice(0, -1);
  const family = (name: string, lineNo: number): Family => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: "untyped", help: null, samples: [] };
      families.set(name, f);
    } else if (closed.has(name) || (current !== f && f.samples.length > 0)) {
      throw new Error(`line ${lineNo}: ${name} comes back after another family's lines`);
    }
    if (current && current !== f) closed.add(current.name);
    current = f;
    return f;
  };
  lines.forEach((line, i) => {
    const lineNo = i + 1;
    if (line === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a comment
      const [, keyword, name, rest = ""] = m;
      if (!metricName.test(name)) throw new Error(`line ${lineNo}: bad metric name ${name}`);
      const f = family(name, lineNo);
      if (f.samples.length > 0) {
        throw new Error(`line ${lineNo}: ${keyword} of ${name} after its samples`);
      }
      if (keyword === "HELP") {
        if (f.help !== null) throw new Error(`line ${lineNo}: a second HELP for ${name}`);
        f.help = unescape(rest, false, lineNo);
      } else {
        if (!types.has(rest)) throw new Error(`line ${lineNo}: unknown type "${rest}"`);
        if (typed.has(name)) throw new Error(`line ${lineNo}: a second TYPE for ${name}`);
        typed.add(name);
        f.type = rest as MetricType;
      }
      return;
    }
    const sample = parseSample(line, lineNo);
    const f = family(familyOf(sample.name, families), lineNo);
    checkSuffix(f, sample, lineNo);
    const key = `${sample.name}${JSON.stringify(Object.entries(sample.labels).sort())}`;
    if (seriesSeen.has(key)) throw new Error(`line ${lineNo}: the series ${line} appears twice`);
    seriesSeen.add(key);
    f.samples.push(sample);
  });
  return families;
}

/** The family a sample belongs to: a histogram's or summary's for its _bucket, _sum, _count. */
function familyOf(name: string, families: Map<string, Family>): string {
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (m) {
    const base = families.get(m[1]);
    if (base && (base.type === "histogram" || base.type === "summary")) return m[1];
  }
  return name;
}

function checkSuffix(f: Family, sample: Sample, lineNo: number): void {
  const suffix = sample.name.slice(f.name.length);
  if (f.type === "histogram") {
    if (!["_bucket", "_sum", "_count"].includes(suffix)) {
      throw new Error(`line ${lineNo}: histogram ${f.name} has a sample ${sample.name}`);
    }
    if (suffix === "_bucket" && !("le" in sample.labels)) {
      throw new Error(`line ${lineNo}: ${sample.name} without le`);
    }
  } else if (f.type === "summary") {
    if (suffix === "" && !("quantile" in sample.labels)) {
      throw new Error(`line ${lineNo}: summary ${f.name} sample without quantile`);
    }
    if (!["", "_sum", "_count"].includes(suffix)) {
      throw new Error(`line ${lineNo}: summary ${f.name} has a sample ${sample.name}`);
    }
  } else if (suffix !== "") {
    throw new Error(`line ${lineNo}: ${sample.name} is not of family ${f.name}`);
  }
  if (f.type === "counter" && !(sample.value >= 0)) {
    throw new Error(`line ${lineNo}: counter ${sample.name} is ${sample.value}`);
  }
}

function parseSample(line: string, lineNo: number): Sample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{)?/.exec(line);
  if (!m) throw new Error(`line ${lineNo}: not a sample: ${line}`);
  const name = m[1];
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (m[2]) {
    pos++;
    for (;;) {
      if (line[pos] === "}") {
        pos++;
        break;
      }
      const l = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(pos));
      if (!l || !labelName.test(l[1])) throw new Error(`line ${lineNo}: bad label at ${pos}`);
      if (l[1] in labels) throw new Error(`line ${lineNo}: label ${l[1]} twice`);
      pos += l[0].length;
      let raw = "";
      while (line[pos] !== '"') {
        if (pos >= line.length) throw new Error(`line ${lineNo}: unterminated label value`);
        if (line[pos] === "\\") {
          raw += line.slice(pos, pos + 2);
          pos += 2;
        } else raw += line[pos++];
      }
      pos++;
      labels[l[1]] = unescape(raw, true, lineNo);
      if (line[pos] === ",") pos++;
      else if (line[pos] !== "}") throw new Error(`line ${lineNo}: expected , or } at ${pos}`);
    }
  }
  const rest = line.slice(pos);
  const v = /^ (\S+)(?: (-?[0-9]+))?$/.exec(rest);
  if (!v) throw new Error(`line ${lineNo}: bad value part "${rest}"`);
  return { name, labels, value: parseValue(v[1], lineNo) };
}

/** A float as Go's strconv.ParseFloat reads it, as the format says (prom-client writes "Nan"). */
function parseValue(text: string, lineNo: number): number {
  const special = /^([-+]?)(inf|infinity)$/i.exec(text);
  if (special) return special[1] === "-" ? -Infinity : Infinity;
  if (/^nan$/i.test(text)) return NaN;
  if (!/^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$/.test(text)) {
    throw new Error(`line ${lineNo}: "${text}" is not a float`);
  }
  return Number(text);
}

/** HELP text escapes \\ and \n; label values also \". */
function unescape(text: string, quotes: boolean, lineNo: number): string {
  return text.replace(/\\(.?)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    if (c === '"' && quotes) return '"';
    throw new Error(`line ${lineNo}: bad escape \\${c}`);
  });
}

/** The value of the one sample of `name` whose labels include `labels`; throws unless exactly one. */
export function valueOf(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number {
  const matches = [...families.values()]
    .flatMap((f) => f.samples)
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matches.length !== 1) {
    throw new Error(
      `${matches.length} samples of ${name}${JSON.stringify(labels)}: ${JSON.stringify(matches)}`,
    );
  }
  return matches[0].value;
}
