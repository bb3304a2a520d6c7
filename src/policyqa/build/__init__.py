"""Building and keeping an index: sync (build/update), the Ray build, vector reuse, status, the doctor, the watcher
and background builds. Works through the `Store` seam of policyqa.index; never names a store's engine."""
