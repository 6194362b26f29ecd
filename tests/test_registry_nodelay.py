"""The registry's listening socket lets asyncio turn Nagle's algorithm off on each
connection: otherwise every keep-alive response (headers and body written apart)
waits for the client's delayed ACK, ~40 ms a request, and `list` over 50 pages
takes seconds."""

from __future__ import annotations

import asyncio
import socket

from pystage.registry.server import bind


def test_accepted_connections_have_tcp_nodelay():
    listener = bind("127.0.0.1", 0)
    port = listener.getsockname()[1]
    seen: list[int] = []

    async def main():
        def handler(reader, writer):
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(handler, sock=listener)
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())
    assert seen and seen[0] != 0
