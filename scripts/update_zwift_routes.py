"""Regenerate tdz/data/zwift-routes.json, the bundled table of Zwift routes, from the npm package `zwift-data`.

    python scripts/update_zwift_routes.py [--version 1.50.0]

Needs npm and node (only here: nothing at run or test time reads npm). `zwift-data` (MIT, github.com/andipaetzold/
zwift-data) is the community's kept list of Zwift's routes with Zwift's own route ids; this script packs the
given version, reads its `routes` and `worlds`, and writes id, name, world, distance, elevation and lead-in of
every cycling route, with the package version, so a season file can name a route as organisers do
(`route = "Turf N Surf"`) and tdz can compare it with the `routeId` of each pen in Zwift's event details.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "tdz" / "data" / "zwift-routes.json"
DUMP = """
const z = require(process.argv[1]);
const worlds = Object.fromEntries(z.worlds.map(w => [w.slug, w.name]));
console.log(JSON.stringify(z.routes.map(r => ({
  id: r.id, name: r.name, world: worlds[r.world] || r.world, distance_km: r.distance, elevation_m: r.elevation,
  lead_in_km: r.leadInDistance, lead_in_m: r.leadInElevation, sports: r.sports, event_only: r.eventOnly,
}))));
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--version", default="1.50.0", help="zwift-data version to take")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(["npm", "pack", f"zwift-data@{args.version}", "--silent"], cwd=folder, check=True,
                       capture_output=True)
        tarball = next(Path(folder).glob("zwift-data-*.tgz"))
        subprocess.run(["tar", "xzf", tarball.name], cwd=folder, check=True)
        dumped = subprocess.run(["node", "-e", DUMP, str(Path(folder) / "package" / "lib" / "cjs" / "index.js")],
                                check=True, capture_output=True, text=True).stdout
    routes = sorted((r for r in json.loads(dumped) if "cycling" in (r.pop("sports") or [])),
                    key=lambda r: (r["world"], r["name"]))
    table = {"source": f"npm zwift-data {args.version} (MIT, https://github.com/andipaetzold/zwift-data)",
             "generated_by": "scripts/update_zwift_routes.py", "routes": routes}
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {len(routes)} routes from zwift-data {args.version} to {OUT}")


if __name__ == "__main__":
    main()
