// Validates glTF/GLB files with the Khronos glTF-Validator (npm gltf-validator, set up by ./dev);
// prints one JSON report per file: {file, errors, warnings, messages: [first error codes]}.
// usage: node validate.mjs VALIDATOR_DIR FILE...
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

const [validatorDir, ...files] = process.argv.slice(2);
const require = createRequire(path.join(validatorDir, "node_modules", "gltf-validator", "package.json"));
const validator = require(path.join(validatorDir, "node_modules", "gltf-validator"));

const reports = [];
for (const file of files) {
  const report = await validator.validateBytes(new Uint8Array(fs.readFileSync(file)), {
    uri: path.basename(file),
    maxIssues: 50,
    externalResourceFunction: (uri) => new Promise((resolve, reject) => {
      fs.readFile(path.resolve(path.dirname(file), decodeURIComponent(uri)), (err, data) =>
        err ? reject(err.toString()) : resolve(new Uint8Array(data)));
    }),
  });
  reports.push({
    file,
    errors: report.issues.numErrors,
    warnings: report.issues.numWarnings,
    messages: report.issues.messages.filter((m) => m.severity <= 1).slice(0, 8)
      .map((m) => `${m.severity === 0 ? "error" : "warning"} ${m.code} ${m.pointer || ""}: ${m.message}`),
    info: report.info ? { drawCalls: report.info.drawCallCount, materials: report.info.materialCount,
                          textures: report.info.textureCount, nodes: report.info.nodeCount } : {},
  });
}
console.log(JSON.stringify(reports));
