"""Forward TCP from the real node's bridge address to the API server on loopback: how the node's pods reach the
`kubernetes` Service (kube-proxy sends 10.96.0.1:443 to this listener), as on any cluster, while the API server
itself listens on 127.0.0.1 only. Bytes pass as they are, so TLS runs from the pod to the API server.

Run as a file, not a module, by the cluster (standard library only): python forward.py LISTEN_HOST:PORT
TARGET_HOST:PORT. Stops on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def serve(listen: tuple[str, int], target: tuple[str, int]) -> None:
    async def connection(client_reader, client_writer):
        try:
            server_reader, server_writer = await asyncio.wait_for(asyncio.open_connection(*target), 10)
        except (TimeoutError, OSError) as error:
            print(f"forward: {target[0]}:{target[1]} did not answer: {error}", file=sys.stderr, flush=True)
            client_writer.close()
            return
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    server = await asyncio.start_server(connection, *listen)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    print(f"forward: {listen[0]}:{listen[1]} -> {target[0]}:{target[1]}", file=sys.stderr, flush=True)
    async with server:
        await stop.wait()


def address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise SystemExit(f"forward: '{text}' is not HOST:PORT")
    return host, int(port)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit("usage: python forward.py LISTEN_HOST:PORT TARGET_HOST:PORT")
    asyncio.run(serve(address(sys.argv[1]), address(sys.argv[2])))
