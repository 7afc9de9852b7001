/**
 * Prints the Debian copyright file (machine-readable format 1.0) of a staged tree: claude-pool
 * itself, the dashboard's bundle with the packages in it (vite's licenses.md), then one paragraph
 * for each bundled npm package with its license.
 * Usage: node dist/packaging/copyright.js LIBDIR INSTALLED_LIBDIR YEARS
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const [libDir, installedDir, years] = process.argv.slice(2);
if (!libDir || !installedDir || !years) {
  process.stderr.write("usage: copyright.js LIBDIR INSTALLED_LIBDIR YEARS\n");
  process.exit(2);
}

interface Manifest {
  name?: string;
  version?: string;
  license?: string | { type: string };
  licenses?: string | (string | { type: string })[];
  author?: string | { name: string };
}

const spdx: Record<string, string> = { "MIT/X11": "MIT", Apache2: "Apache-2.0" };

/** Guesses a license that package.json does not name from its license file's wording. */
function licenseFromFile(dir: string): string | undefined {
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  if (!file) return undefined;
  const text = readFileSync(join(dir, file), "utf8");
  if (text.includes("Apache License")) return "Apache-2.0";
  if (text.includes("Permission is hereby granted, free of charge")) return "MIT";
  if (text.includes("Permission to use, copy, modify, and/or distribute")) return "ISC";
  return undefined;
}

function licenseOf(dir: string, manifest: Manifest): string {
  const named = [manifest.license ?? manifest.licenses ?? []]
    .flat()
    .map((l) => (typeof l === "string" ? l : l.type))
    .map((l) => spdx[l] ?? l);
  const license = named.length > 0 ? named.join(" or ") : licenseFromFile(dir);
  if (!license) throw new Error(`${dir}: no license in package.json nor a license file`);
  return license.replace(/^\((.*)\)$/, "$1").replace(/ OR /g, " or ");
}

/** Every package directory under node_modules, nested ones too. */
function packages(nodeModules: string): string[] {
  if (!existsSync(nodeModules)) return [];
  return readdirSync(nodeModules)
    .filter((name) => !name.startsWith("."))
    .flatMap((name) =>
      name.startsWith("@")
        ? readdirSync(join(nodeModules, name)).map((sub) => join(nodeModules, name, sub))
        : [join(nodeModules, name)],
    )
    .flatMap((dir) => [dir, ...packages(join(dir, "node_modules"))]);
}

const paragraphs: string[] = [
  [
    "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/",
    "Upstream-Name: claude-pool",
  ].join("\n"),
  ["Files: *", `Copyright: ${years} the claude-pool authors`, "License: Apache-2.0"].join("\n"),
];
const used = new Set<string>(["Apache-2.0", "MIT"]);
/** libvterm's and jansson's license, linked into the host, where no package's file carries it. */
const mitText = [
  "Permission is hereby granted, free of charge, to any person obtaining a copy",
  'of this software and associated documentation files (the "Software"), to deal',
  "in the Software without restriction, including without limitation the rights",
  "to use, copy, modify, merge, publish, distribute, sublicense, and/or sell",
  "copies of the Software, and to permit persons to whom the Software is",
  "furnished to do so, subject to the following conditions:",
  ".",
  "The above copyright notice and this permission notice shall be included in",
  "all copies or substantial portions of the Software.",
  ".",
  'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR',
  "IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,",
  "FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE",
  "AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER",
  "LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,",
  "OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN",
  "THE SOFTWARE.",
].join("\n ");
paragraphs.push(
  [
    `Files: ${join(installedDir, "dist", "native").replace(/^\//, "")}/*`,
    `Copyright: ${years} the claude-pool authors`,
    " 2008 Paul Evans (libvterm)",
    " 2009-2020 Petri Lehtinen (jansson)",
    "License: Apache-2.0 and MIT",
    "Comment: the session host, which links libvterm and jansson, both under the MIT license.",
  ].join("\n"),
);
const bundleLicenses = join(libDir, "dist", "dashboard", "licenses.md");
if (existsSync(bundleLicenses)) {
  // "## @xterm/xterm - 6.0.0 (MIT)", then the package's license text with its Copyright lines
  const text = readFileSync(bundleLicenses, "utf8");
  const licenses = [...text.matchAll(/^## .* \((.+)\)$/gm)].map((m) => m[1]);
  const holders = [...new Set(text.match(/^Copyright .*$/gm) ?? [])];
  for (const l of licenses) used.add(l);
  paragraphs.push(
    [
      `Files: ${join(installedDir, "dist", "dashboard").replace(/^\//, "")}/assets/*`,
      `Copyright: ${years} the claude-pool authors`,
      ...holders.map((h) => ` ${h}`),
      `License: ${["Apache-2.0", ...new Set(licenses)].join(" and ")}`,
      `Comment: the dashboard's bundle; the packages in it and their licenses are listed in`,
      ` ${join(installedDir, "dist", "dashboard", "licenses.md")}.`,
    ].join("\n"),
  );
}
for (const dir of packages(join(libDir, "node_modules")).sort()) {
  const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
  const license = licenseOf(dir, manifest);
  const author = typeof manifest.author === "string" ? manifest.author : manifest.author?.name;
  for (const l of license.split(" or ")) used.add(l);
  paragraphs.push(
    [
      `Files: ${join(installedDir, relative(libDir, dir)).replace(/^\//, "")}/*`,
      `Copyright: ${author ?? `the ${manifest.name} authors`}`,
      `License: ${license}`,
    ].join("\n"),
  );
}
for (const license of [...used].sort()) {
  const text =
    license === "Apache-2.0"
      ? `On Debian systems, the full text of the Apache License, Version 2.0 is in\n /usr/share/common-licenses/Apache-2.0.`
      : license === "MIT"
        ? mitText
        : `The full text is in the license file of each package under this license,\n in ${installedDir}/node_modules or ${installedDir}/dist/dashboard/licenses.md.`;
  paragraphs.push(`License: ${license}\n ${text}`);
}
process.stdout.write(paragraphs.join("\n\n") + "\n");
