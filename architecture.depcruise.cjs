/**
 * The parts of dbtunnel and the arrows allowed between them, checked by dependency-cruiser on every
 * `npm run lint` (and so in CI), tests included. A forbidden import fails lint naming the rule below.
 *
 * Parts (top-level folders):
 *   contract/      shared contracts (outputs schema, tag keys, engines, policy types): pure TypeScript
 *   modules/       CDKTF constructs (jump host, database, network, engineer access)
 *   stacks/        the deployable stack and its config, built from modules/
 *   policy/        security rules over synthesized Terraform JSON (never the constructs)
 *   tunnel/        native Session Manager client (protocol codec, smux, port forwarding): a library
 *   cli/           the `dbtunnel` command line. cli/pipeline/ is the connect pipeline (target → jump
 *                  host ready → session → token → client parameters) that cli/commands/, cli/demo/,
 *                  the proxy and the benches call
 *   proxy/         the local database proxy's wire handling (PostgreSQL, MySQL); cli/proxy-*.ts wires it up
 *   sandbox/       the local sandbox account: moto, Session Manager gateway + agent emulator, PostgreSQL
 *   main.ts        the CDKTF app entry
 * Not product:
 *   e2e/           the end-to-end suite (drives the real CLI against a Terraform-deployed stack)
 *   integration/   tests that may know several parts (e.g. the tunnel through the emulator)
 *   test-support/  test helpers (test-support/<part>/ for one part's helpers); also any `fixtures/`
 *   bench/         benchmarks
 *   *.test.ts      tests
 *
 * Try it: add `import "../sandbox/index.ts";` to tunnel/codec.ts and run `npm run lint:arch`.
 */

/** Files that only tests, benches and tooling may use. */
const NOT_PRODUCT = [
  "\\.test\\.ts$",
  "(^|/)test-support/",
  "(^|/)fixtures/",
  "^e2e/",
  "^integration/",
  "^bench/",
  "^scripts/",
  "\\.py$",
];

module.exports = {
  forbidden: [
    {
      name: "modules-know-no-runtime",
      comment:
        "modules/ are CDKTF constructs: they describe infrastructure and must not know the CLI, the tunnel, the proxy, the sandbox or the e2e suite.",
      severity: "error",
      from: { path: "^modules/" },
      to: {
        path: "^(cli|proxy|tunnel|sandbox|e2e|integration|bench|test-support/(cli|sandbox|tunnel))/",
      },
    },
    {
      name: "stacks-know-no-runtime",
      comment:
        "stacks/ compose modules/ into a deployable stack: no CLI, tunnel, proxy, sandbox or e2e in there.",
      severity: "error",
      from: { path: "^stacks/" },
      to: {
        path: "^(cli|proxy|tunnel|sandbox|e2e|integration|bench|test-support/(cli|sandbox|tunnel))/",
      },
    },
    {
      name: "contract-is-pure",
      comment:
        "contract/ is the one place of each shared contract: plain TypeScript that any part may import, so it imports nothing of the project's parts.",
      severity: "error",
      from: { path: "^contract/", pathNot: "\\.test\\.ts$" },
      to: {
        path: "^(modules|stacks|policy|tunnel|cli|proxy|sandbox|e2e|integration|bench|test-support)/",
      },
    },
    {
      name: "tunnel-never-knows-the-sandbox",
      comment:
        "tunnel/ talks to Session Manager; the emulator in sandbox/ plays Session Manager. A test of the tunnel against the emulator belongs in integration/.",
      severity: "error",
      from: { path: "^tunnel/" },
      to: { path: "^(sandbox|test-support/sandbox)/" },
    },
    {
      name: "tunnel-is-a-library",
      comment: "tunnel/ is a library the CLI pipeline and the proxy use; it never imports them.",
      severity: "error",
      from: { path: "^tunnel/" },
      to: { path: "^(cli|proxy|modules|stacks|policy|e2e|test-support/cli)/" },
    },
    {
      name: "policy-reads-synthesized-json",
      comment:
        "policy/ judges the synthesized Terraform JSON (what is deployed), never the constructs that produced it, so it also judges hand-edited or foreign stacks. Tests that synthesize the stack and audit it live in stacks/.",
      severity: "error",
      from: { path: "^policy/" },
      to: { path: "^(modules|stacks|cli|proxy|tunnel|sandbox)/" },
    },
    {
      name: "sandbox-is-not-the-product",
      comment:
        "sandbox/ emulates AWS for the product; it must not depend on the product's client side (CLI, pipeline, proxy) it is there to test.",
      severity: "error",
      from: { path: "^sandbox/", pathNot: "\\.test\\.ts$" },
      to: { path: "^(cli|proxy|e2e)/" },
    },
    {
      name: "pipeline-is-below-the-commands",
      comment:
        "cli/pipeline/ is the connect path every front end calls (commands, demo, proxy, benches); it never imports one of them.",
      severity: "error",
      from: { path: "^cli/pipeline/" },
      to: { path: "^(cli/commands|cli/demo|proxy|sandbox|e2e)/" },
    },
    {
      name: "proxy-is-wire-handling",
      comment:
        "proxy/ speaks the database wire protocols; the CLI wires it to sessions and tokens (cli/proxy-*.ts), so proxy/ never imports the CLI or the sandbox.",
      severity: "error",
      from: { path: "^proxy/", pathNot: "\\.test\\.ts$" },
      to: { path: "^(cli|sandbox|e2e)/" },
    },
    {
      name: "product-never-imports-tests",
      comment:
        "Nothing users run may import the e2e suite, benches, a test or a test helper: move the shared code into the product part that owns it.",
      severity: "error",
      from: { pathNot: NOT_PRODUCT },
      to: { path: NOT_PRODUCT },
    },
    {
      name: "no-cycles-between-parts",
      comment:
        "An import cycle that crosses parts ties them into one: move the shared piece down into the part both may use.",
      severity: "error",
      from: { path: "^([^/]+)/" },
      to: { circular: true, path: "^([^/]+)/", pathNot: "^$1/" },
    },
    {
      name: "not-to-unresolvable",
      comment: "An import the resolver cannot find: a typo or a missing dependency.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|cdktf\\.out|\\.gen|\\.dbtunnel)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "default", "types"],
      // No ".json": with the tsconfig's base directory, `cdktf` would resolve to ./cdktf.json instead of the package.
      extensions: [".ts", ".d.ts", ".js", ".mjs", ".cjs"],
      mainFields: ["module", "main", "types", "typings"],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
