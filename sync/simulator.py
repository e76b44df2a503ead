"""A local stand-in for the national public-service portal, run as its own process:

    python -m sync.simulator --port 8790 [--store received.jsonl]

It speaks the protocol of ``sync.national.JsonPortal``, stores what it receives (in memory, and appended to
``--store`` when given), and answers as the portal does: "0" for success, "đã tồn tại" to a repeated add,
"không tồn tại" to an update of an unknown dossier. A repeated progress entry (same dossier, time, status and
content) is acknowledged and not stored twice, as a receiver that must survive retries does.

Test control (not part of the portal's protocol), all JSON:
    POST /_sim/mode   {"refuse": bool, "refuse_for": seconds, "delay": seconds, "exists": bool, "token": str}
    POST /_sim/reset  forget everything
    GET  /_sim/state  counts; /_sim/dossiers/<MaHoSo> one dossier with its progress entries; /_sim/log the applied
                      operations in order
Only the standard library: it starts in a fraction of a second and needs no database.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OK = {"error_code": "0", "message": "Thành công"}


class Portal:
    """The simulated portal's state; one lock keeps every call atomic, like a database transaction would."""

    def __init__(self, store: str | None = None) -> None:
        self.lock = threading.Lock()
        self.store = open(store, "a", encoding="utf-8") if store else None  # noqa: SIM115 - lives with the process
        self.reset()

    def reset(self) -> None:
        self.dossiers: dict[str, dict[str, Any]] = {}
        self.progress: dict[str, list[dict[str, Any]]] = {}
        self.progress_keys: set[tuple[Any, ...]] = set()
        self.procedures: dict[str, dict[str, Any]] = {}
        self.log: list[list[Any]] = []
        self.counts = {"requests": 0, "refused": 0, "items": 0, "repeats": 0}
        self.refuse_until = 0.0
        self.refuse = False
        self.delay = 0.0
        self.exists = False
        self.token = ""

    # -- operations --------------------------------------------------------------------------------------------

    def add_dossier(self, item: dict[str, Any]) -> dict[str, str]:
        code = item.get("MaHoSo") or ""
        if not code:
            return {"error_code": "1", "message": "Thiếu mã hồ sơ (MaHoSo)"}
        if code in self.dossiers or self.exists:
            # "exists" mode: as if an earlier add had arrived and its answer was lost on the way back.
            self.counts["repeats"] += 1
            if code not in self.dossiers:
                self.dossiers[code] = item
                self.log.append(["add", code, item.get("TrangThaiHoSo")])
            return {"error_code": "1", "message": f"Hồ sơ {code} đã tồn tại"}
        self.dossiers[code] = item
        self.log.append(["add", code, item.get("TrangThaiHoSo")])
        return OK

    def update_dossier(self, item: dict[str, Any]) -> dict[str, str]:
        code = item.get("MaHoSo") or ""
        if code not in self.dossiers:
            return {"error_code": "2", "message": f"Hồ sơ {code} không tồn tại"}
        if self.dossiers[code] == item:
            self.counts["repeats"] += 1
        else:
            self.dossiers[code] = item
            self.log.append(["update", code, item.get("TrangThaiHoSo")])
        return OK

    def add_progress(self, item: dict[str, Any]) -> dict[str, str]:
        code = item.get("MaHoSo") or ""
        if code not in self.dossiers:
            return {"error_code": "2", "message": f"Hồ sơ {code} không tồn tại"}
        key = (code, item.get("ThoiDiemXuLy"), item.get("TrangThai"), item.get("NoiDungXuLy"), item.get("NguoiXuLy"))
        if key in self.progress_keys:
            self.counts["repeats"] += 1
            return OK
        self.progress_keys.add(key)
        self.progress.setdefault(code, []).append(item)
        self.log.append(["progress", code, item.get("TrangThai")])
        return OK

    def sync_procedure(self, item: dict[str, Any]) -> dict[str, str]:
        code = item.get("MaTTHC") or ""
        if not code:
            return {"error_code": "1", "message": "Thiếu mã thủ tục (MaTTHC)"}
        if self.procedures.get(code) == item:
            self.counts["repeats"] += 1
        else:
            self.procedures[code] = item
            self.log.append(["procedure", code, item.get("TrangThai")])
        return OK

    def query_dossier(self, item: dict[str, Any]) -> dict[str, Any]:
        found = self.dossiers.get(item.get("MaHoSo") or "")
        if found is None:
            return {"error_code": "2", "message": "Không tồn tại", "MaHoSo": item.get("MaHoSo")}
        return {**OK, "MaHoSo": found["MaHoSo"], "TrangThaiHoSo": found.get("TrangThaiHoSo")}

    def query_procedure(self, item: dict[str, Any]) -> dict[str, Any]:
        found = self.procedures.get(item.get("MaTTHC") or "")
        if found is None:
            return {"error_code": "2", "message": "Không tồn tại", "MaTTHC": item.get("MaTTHC")}
        return {**OK, "MaTTHC": found["MaTTHC"], "TrangThai": found.get("TrangThai")}

    SERVICES = {
        "DongBoHoSoMC": "add_dossier",
        "CapNhatHoSoMC": "update_dossier",
        "DongBoTienDoXuLy": "add_progress",
        "DongBoTTHC": "sync_procedure",
        "TraCuuHoSo": "query_dossier",
        "TraCuuTTHC": "query_procedure",
    }

    def call(self, service: str, items: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        operation = getattr(self, self.SERVICES[service])
        with self.lock:
            self.counts["requests"] += 1
            if self.refuse or time.time() < self.refuse_until:
                self.counts["refused"] += 1
                return 503, {"error_code": "-1", "message": "Hệ thống đang bận, vui lòng thử lại sau"}
            answers = []
            for item in items:
                answer = operation(item)
                answers.append({**answer, **{k: item[k] for k in ("MaHoSo", "MaTTHC") if k in item}})
            self.counts["items"] += len(items)
            if self.store is not None and not service.startswith("TraCuu"):
                self.store.write(json.dumps({"service": service, "data": items}, ensure_ascii=False) + "\n")
                self.store.flush()
        return 200, {**OK, "data": answers}

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                **self.counts,
                "dossiers": len(self.dossiers),
                "progress": sum(len(v) for v in self.progress.values()),
                "procedures": len(self.procedures),
                "refusing": self.refuse or time.time() < self.refuse_until,
                "delay": self.delay,
            }


def handler_for(portal: Portal) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like the portal's HTTPS front

        def log_message(self, format: str, *args: Any) -> None:
            return

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> Any:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def do_GET(self) -> None:
            if self.path == "/_sim/state":
                return self._answer(200, portal.state())
            if self.path == "/_sim/log":
                with portal.lock:
                    return self._answer(200, list(portal.log))
            if self.path.startswith("/_sim/dossiers/"):
                code = self.path.removeprefix("/_sim/dossiers/")
                with portal.lock:
                    found = portal.dossiers.get(code)
                    progress = list(portal.progress.get(code, []))
                if found is None:
                    return self._answer(404, {"error_code": "2", "message": "Không tồn tại"})
                return self._answer(200, {"dossier": found, "progress": progress})
            if self.path.startswith("/_sim/procedures/"):
                with portal.lock:
                    found = portal.procedures.get(self.path.removeprefix("/_sim/procedures/"))
                return self._answer(200 if found else 404, found or {"error_code": "2"})
            if self.path == "/":
                return self._answer(200, {"service": "national portal simulator"})
            return self._answer(404, {"error_code": "404", "message": "Not found"})

        def do_POST(self) -> None:
            try:
                body = self._body()
            except ValueError:
                return self._answer(400, {"error_code": "400", "message": "Dữ liệu không phải JSON"})
            if self.path == "/_sim/reset":
                with portal.lock:
                    portal.reset()
                return self._answer(200, OK)
            if self.path == "/_sim/mode":
                with portal.lock:
                    portal.refuse = bool(body.get("refuse", portal.refuse))
                    if "refuse_for" in body:
                        portal.refuse_until = time.time() + float(body["refuse_for"])
                    portal.delay = float(body.get("delay", portal.delay))
                    portal.exists = bool(body.get("exists", portal.exists))
                    portal.token = str(body.get("token", portal.token))
                return self._answer(200, portal.state())
            service = self.path.removeprefix("/api/")
            if service not in Portal.SERVICES:
                return self._answer(404, {"error_code": "404", "message": f"Không có dịch vụ {service}"})
            if portal.token and self.headers.get("Authorization") != f"Bearer {portal.token}":
                return self._answer(401, {"error_code": "401", "message": "Sai mã truy cập"})
            items = body.get("data")
            if not isinstance(items, list):
                return self._answer(400, {"error_code": "400", "message": "Thiếu danh sách data"})
            status, answer = portal.call(service, items)
            if portal.delay:
                time.sleep(portal.delay)  # slow: the items are stored, the answer comes late
            return self._answer(status, answer)

    return Handler


def serve(host: str, port: int, store: str | None = None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), handler_for(Portal(store)))
    server.daemon_threads = True
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8790)
    parser.add_argument("--store", help="append every received message to this JSON-lines file")
    args = parser.parse_args()
    server = serve(args.host, args.port, args.store)
    print(f"national portal simulator on http://{args.host}:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
