"""A provider's edge (a proxy, a gateway in front of it) answering every request alike."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def answering(response: Response) -> Starlette:
    """Every POST, on any path, read whole and answered with `response`, after whatever the
    provider behind the edge did with the request."""

    async def answer(request: Request) -> Response:
        await request.body()
        return response

    return Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])
