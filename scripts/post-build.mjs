// Makes the built CLI executable (npm links bin files, but `node dist/src/cli.js` must work too).
import { chmodSync } from "node:fs";
chmodSync(new URL("../dist/src/cli.js", import.meta.url), 0o755);
