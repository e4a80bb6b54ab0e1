"""The local CloudFormation emulator: moto's server with cfdeploy's corrections applied.

Binds to 127.0.0.1 only, on the port given (0: a free one), prints the endpoint on one line and
serves until its stdin closes (so a test process that dies takes it along) or it is killed.
"""

import argparse
import logging
import os
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import corrections  # noqa: E402  (patches moto before its server is built)
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--no-stdin-watch",
        action="store_true",
        help="keep serving when stdin closes (for running it by hand in the background)",
    )
    args = parser.parse_args()
    # One line per request drowns the test output; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    app = corrections.wrap(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    # Step Functions executions run for real, their aws-sdk Task states calling back into this
    # server (on loopback, at the port just bound).
    corrections.run_state_machines(server.server_port)
    print(f"CFDEPLOY_EMULATOR_ENDPOINT=http://127.0.0.1:{server.server_port}", flush=True)

    if not args.no_stdin_watch:
        def watch_stdin() -> None:
            try:
                while sys.stdin.read(4096):
                    pass
            finally:
                os._exit(0)

        threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
