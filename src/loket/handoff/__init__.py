"""The handoff block: a person asks for a human, waits in a queue, and an agent takes over the same
conversation, with its history."""
