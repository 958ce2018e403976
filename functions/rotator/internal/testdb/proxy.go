package testdb

import (
	"net"
	"sync"
	"testing"
)

// Mode is what a Proxy does with traffic.
type Mode int

// The proxy's modes.
const (
	// Pass forwards traffic both ways.
	Pass Mode = iota
	// Down closes every connection, open or new, at once: the database is
	// unreachable.
	Down
	// Hang accepts connections and holds every byte, open connections
	// included: the database is up but does not answer.
	Hang
)

// Proxy is a TCP proxy in front of a database, for tests that take the
// database down or make it hang and bring it back.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	cond  *sync.Cond
	mode  Mode
	conns map[net.Conn]bool
	// accepted counts the connections the proxy has accepted.
	accepted int
}

// NewProxy listens on a free local port and forwards to target. It stops
// when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: target, conns: map[net.Conn]bool{}}
	p.cond = sync.NewCond(&p.mu)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's address.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// SetMode switches the proxy's behaviour, for open and new connections.
func (p *Proxy) SetMode(m Mode) {
	p.mu.Lock()
	p.mode = m
	if m == Down {
		for c := range p.conns {
			_ = c.Close()
		}
	}
	p.cond.Broadcast()
	p.mu.Unlock()
}

func (p *Proxy) close() {
	_ = p.ln.Close()
	p.SetMode(Down)
}

// Accepted is the number of connections made to the proxy so far.
func (p *Proxy) Accepted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.accepted
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.accepted++
	if p.mode == Down {
		_ = c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			continue
		}
		go p.handle(c)
	}
}

func (p *Proxy) handle(client net.Conn) {
	// While hanging, a new connection is not even forwarded: the server's
	// greeting never comes.
	p.mu.Lock()
	for p.mode == Hang {
		p.cond.Wait()
	}
	down := p.mode == Down
	p.mu.Unlock()
	if down {
		_ = client.Close()
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	if !p.track(server) {
		_ = client.Close()
		return
	}
	go p.pipe(server, client)
	p.pipe(client, server)
}

// pipe copies src to dst, holding each chunk while the proxy hangs.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			for p.mode == Hang {
				p.cond.Wait()
			}
			down := p.mode == Down
			p.mu.Unlock()
			if down {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
