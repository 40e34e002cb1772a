"""WebSocket conformance: Autobahn|Testsuite's fuzzing client against our echo route (docs/conformance.md)."""
