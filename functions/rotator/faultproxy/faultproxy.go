// Package faultproxy is a TCP proxy on loopback that can make the server
// behind it misbehave on demand: refuse connections (nothing listens), hang
// (accept and never answer; open connections stall), or drop connections.
// It sits in front of any server (the MariaDB on 127.0.0.1:3306, the
// sandbox's embedded server) so the rotator's tests, chaos runs and
// benchmarks can take a database down or make it hang without touching the
// real server. Every change of
// mode is made by the caller (SetMode), so tests stay deterministic.
//
// It also counts what clients send, per connection and per MySQL command
// (the first byte of every client packet with sequence number 0: COM_QUERY,
// COM_PING, COM_QUIT, ...), which is how benchmarks count database round
// trips. The count is meaningful only for plaintext MySQL sessions: after a
// TLS upgrade the bytes are opaque.
package faultproxy

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// Mode is how the proxy treats connections.
type Mode int

// The modes.
const (
	// Pass forwards bytes both ways.
	Pass Mode = iota
	// Refuse closes the listening socket, so connecting fails with
	// "connection refused" as with a stopped server, and closes every open
	// connection. Leaving Refuse listens again on the same address.
	Refuse
	// Hang accepts connections and never answers; open connections stop
	// forwarding in both directions (a hung server, a dead network path).
	// Leaving Hang lets held and stalled connections carry on.
	Hang
	// Drop closes every open connection and every new one as soon as it is
	// accepted (a server that crashes on each connection).
	Drop
)

func (m Mode) String() string {
	switch m {
	case Pass:
		return "pass"
	case Refuse:
		return "refuse"
	case Hang:
		return "hang"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// MySQL command bytes (client/server protocol, "Text Protocol" and
// "Prepared Statements") that the counters name.
const (
	ComQuit        = 0x01
	ComInitDB      = 0x02
	ComQuery       = 0x03
	ComPing        = 0x0e
	ComStmtPrepare = 0x16
	ComStmtExecute = 0x17
	ComStmtClose   = 0x19
	ComResetConn   = 0x1f
)

// Counts is what clients sent through the proxy.
type Counts struct {
	// Accepted is how many connections clients made to the proxy, whatever
	// the mode (a test shows that nothing tried to connect).
	Accepted int
	// Connections is how many connections reached the target.
	Connections int
	// Commands is the number of client packets that start a command, by
	// command byte (ComQuery, ComPing, ...). Handshake packets are not
	// counted here.
	Commands map[byte]int
}

// RoundTrips is the number of commands other than COM_QUIT (which gets no
// answer).
func (c Counts) RoundTrips() int {
	n := 0
	for cmd, k := range c.Commands {
		if cmd != ComQuit {
			n += k
		}
	}
	return n
}

// Proxy forwards connections from its address to a target address.
type Proxy struct {
	target string
	dial   time.Duration

	mu      sync.Mutex
	addr    string
	ln      net.Listener
	mode    Mode
	gate    chan struct{} // closed unless hanging
	conns   map[*pair]struct{}
	counts  Counts
	closed  bool
	serving sync.WaitGroup
}

// New listens on a free loopback port and forwards to target (host:port).
func New(target string) (*Proxy, error) {
	if _, _, err := net.SplitHostPort(target); err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	gate := make(chan struct{})
	close(gate)
	p := &Proxy{
		target: target,
		dial:   5 * time.Second,
		addr:   ln.Addr().String(),
		ln:     ln,
		gate:   gate,
		conns:  map[*pair]struct{}{},
		counts: Counts{Commands: map[byte]int{}},
	}
	p.serve(ln)
	return p, nil
}

// Addr is the proxy's address (host:port); it stays the same across modes.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// Mode is the current mode.
func (p *Proxy) Mode() Mode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// SetMode switches to m. When it returns, the switch has taken effect: in
// Refuse nothing listens and no connection is open; in Drop no connection
// is open; in Hang nothing more is forwarded. It fails only when leaving
// Refuse cannot listen on the proxy's address again (another process took
// the port), or after Close.
func (p *Proxy) SetMode(m Mode) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return errors.New("faultproxy: closed")
	}
	if m == p.mode {
		return nil
	}
	// Leave the old mode.
	switch p.mode {
	case Hang:
		close(p.gate)
	case Refuse:
		ln, err := net.Listen("tcp", p.addr)
		if err != nil {
			return fmt.Errorf("faultproxy: listen again on %s: %w", p.addr, err)
		}
		p.ln = ln
		p.serve(ln)
	}
	// Enter the new one.
	switch m {
	case Hang:
		p.gate = make(chan struct{})
	case Refuse:
		_ = p.ln.Close()
		p.ln = nil
		p.closeConnsLocked()
	case Drop:
		p.closeConnsLocked()
	}
	p.mode = m
	return nil
}

// DropConnections closes every open connection now and leaves the mode as
// it is (a brief network failure).
func (p *Proxy) DropConnections() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closeConnsLocked()
}

// Open is the number of connections open through the proxy.
func (p *Proxy) Open() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.conns)
}

// Counts returns a copy of the counters.
func (p *Proxy) Counts() Counts {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := Counts{Accepted: p.counts.Accepted, Connections: p.counts.Connections, Commands: make(map[byte]int, len(p.counts.Commands))}
	for k, v := range p.counts.Commands {
		c.Commands[k] = v
	}
	return c
}

// ResetCounts sets the counters to zero.
func (p *Proxy) ResetCounts() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = Counts{Commands: map[byte]int{}}
}

// Close stops the proxy and closes every connection.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	var err error
	if p.ln != nil {
		err = p.ln.Close()
		p.ln = nil
	}
	if p.mode == Hang {
		close(p.gate)
		p.mode = Pass
	}
	p.closeConnsLocked()
	p.mu.Unlock()
	p.serving.Wait()
	return err
}

func (p *Proxy) closeConnsLocked() {
	for c := range p.conns {
		c.close()
		delete(p.conns, c)
	}
}

func (p *Proxy) serve(ln net.Listener) {
	p.serving.Add(1)
	go func() {
		defer p.serving.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed: Refuse or Close
			}
			p.serving.Add(1)
			go func() {
				defer p.serving.Done()
				p.handle(c)
			}()
		}
	}()
}

// pair is one client connection and its upstream connection.
type pair struct {
	client, server net.Conn
	once           sync.Once
	done           chan struct{}
}

func (c *pair) close() {
	c.once.Do(func() {
		close(c.done)
		_ = c.client.Close()
		if c.server != nil {
			_ = c.server.Close()
		}
	})
}

func (p *Proxy) handle(client net.Conn) {
	pr := &pair{client: client, done: make(chan struct{})}
	p.mu.Lock()
	p.counts.Accepted++
	if p.closed || p.mode == Drop || p.mode == Refuse {
		p.mu.Unlock()
		_ = client.Close()
		return
	}
	p.conns[pr] = struct{}{}
	gate := p.gate
	p.mu.Unlock()
	defer func() {
		pr.close()
		p.mu.Lock()
		delete(p.conns, pr)
		p.mu.Unlock()
	}()
	// A hung server accepts and answers nothing: wait here until the hang
	// ends or the connection is dropped.
	select {
	case <-gate:
	case <-pr.done:
		return
	}
	server, err := net.DialTimeout("tcp", p.target, p.dial)
	if err != nil {
		return // the client sees its connection closed, as when the server is down
	}
	p.mu.Lock()
	select {
	case <-pr.done:
		p.mu.Unlock()
		_ = server.Close()
		return
	default:
	}
	pr.server = server
	p.counts.Connections++
	p.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		p.pump(pr, server, client, &commandCounter{p: p})
		pr.close()
	}()
	go func() {
		defer wg.Done()
		p.pump(pr, client, server, nil)
		pr.close()
	}()
	wg.Wait()
}

// pump copies src to dst chunk by chunk, waiting at the gate before each
// write so that Hang stalls an open connection.
func (p *Proxy) pump(pr *pair, dst, src net.Conn, count *commandCounter) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if count != nil {
				count.feed(buf[:n])
			}
			p.mu.Lock()
			gate := p.gate
			p.mu.Unlock()
			select {
			case <-gate:
			case <-pr.done:
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return // EOF or closed: the caller closes both sides
		}
	}
}

// commandCounter parses the client-to-server stream into MySQL packets
// (3-byte little-endian length, 1-byte sequence number, payload) and counts
// the command byte of each packet with sequence number 0, which is how
// every command starts; the handshake response has sequence number 1 or
// more.
type commandCounter struct {
	p      *Proxy
	header [4]byte
	have   int // bytes of header read so far
	skip   int // payload bytes still to skip
	first  bool
}

func (c *commandCounter) feed(b []byte) {
	for len(b) > 0 {
		if c.skip > 0 {
			if c.first {
				c.first = false
				if c.header[3] == 0 {
					c.p.mu.Lock()
					c.p.counts.Commands[b[0]]++
					c.p.mu.Unlock()
				}
			}
			n := min(c.skip, len(b))
			c.skip -= n
			b = b[n:]
			continue
		}
		n := copy(c.header[c.have:], b)
		c.have += n
		b = b[n:]
		if c.have == 4 {
			c.have = 0
			c.skip = int(c.header[0]) | int(c.header[1])<<8 | int(c.header[2])<<16
			c.first = c.skip > 0
		}
	}
}
