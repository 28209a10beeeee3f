"""HTTP as a stack of httpx transports under the function's client: live, recording, replay, observing."""
