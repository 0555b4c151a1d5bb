// Transpile one of the seed's TypeScript files to JavaScript without changing its logic:
// types are erased, nothing else. Usage: node transpile.js <in.ts> <out.js> [none|commonjs|esnext]
const fs = require("fs");
const ts = require("typescript");

const [input, output, moduleKind = "none"] = process.argv.slice(2);
const source = fs.readFileSync(input, "utf8");
const modules = { none: ts.ModuleKind.None, commonjs: ts.ModuleKind.CommonJS, esnext: ts.ModuleKind.ESNext };
const result = ts.transpileModule(source, {
  compilerOptions: {
    target: ts.ScriptTarget.ES2022,
    module: modules[moduleKind],
    removeComments: false,
  },
  fileName: input,
  reportDiagnostics: true,
});
const errors = (result.diagnostics || []).filter((d) => d.category === ts.DiagnosticCategory.Error);
if (errors.length) {
  for (const d of errors) console.error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  process.exit(1);
}
fs.writeFileSync(output, result.outputText);
