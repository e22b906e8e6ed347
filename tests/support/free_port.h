// A TCP port that was free a moment ago, for a server a test starts on it: bound to port 0 on
// every address, then released. Another process may take it between the two; a fixture sees
// that as a failed start (its server cannot bind) and starts again on a new port.
#pragma once

namespace trainyard::testing {

// The port, or 0 when no socket could be bound.
int FreeLoopbackPort();

// Whether something accepts TCP connections on 127.0.0.1:`port` now (a daemon a test started
// is ready to serve).
bool AcceptsLoopbackConnections(int port);

}  // namespace trainyard::testing
