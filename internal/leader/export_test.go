package leader

// Freeze stops t's heartbeat as a SIGSTOP would, keeping its connection
// open and its term unlost: what a frozen process looks like from outside.
func Freeze(t *Term) {
	close(t.stop)
	<-t.stopped
}
