package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"

	"github.com/resilience-go/grpc-resilience/faultinject/adminpb"
)

// authorizationKey is the metadata key that carries the bearer token, as in
// HTTP (RFC 6750).
const authorizationKey = "authorization"

// MaxTokenLen is the longest bearer token that [WithBearerToken],
// [BearerToken] and [InsecureBearerToken] accept, in bytes.
const MaxTokenLen = 4096

// WithBearerToken requires every caller to send the metadata
// "authorization: Bearer TOKEN" with this token, as [BearerToken] and
// [InsecureBearerToken] do; the scheme name "Bearer" is matched without
// regard to case. A call without that metadata, with another token, with
// another scheme or with more than one authorization value is refused with
// UNAUTHENTICATED, and the message never holds a token. Tokens are compared
// in constant time (of SHA-256 sums, so that not even the length leaks).
//
// token must be 1 to [MaxTokenLen] bytes of visible ASCII (0x21 to 0x7E):
// what an HTTP/2 header can carry after "Bearer ". Otherwise [NewServer]
// and [Register] return an error naming this option (and not the token).
// Use a long random token, such as the output of "openssl rand -hex 32".
//
// Default: no token required; but with no authentication option at all,
// every call is refused (see the package documentation).
func WithBearerToken(token string) Option {
	return func(o *options) { o.auth.token, o.auth.tokenSet = token, true }
}

// WithClientCertificate requires every caller to have presented a TLS client
// certificate that the server verified: the connection's
// credentials.TLSInfo must hold a verified chain, which crypto/tls builds
// only when the server's tls.Config checks client certificates against its
// ClientCAs (tls.VerifyClientCertIfGiven or tls.RequireAndVerifyClientCert).
// A call over a connection without TLS, without a client certificate or
// with one that was not verified (tls.RequestClientCert,
// tls.RequireAnyClientCert) is refused with UNAUTHENTICATED.
//
// With names, the verified certificate must also name one of them, as a DNS
// subject alternative name or as its subject common name, compared without
// regard to case and without wildcard matching; a verified certificate that
// names none of them is refused with PERMISSION_DENIED. An empty name makes
// [NewServer] and [Register] return an error.
//
// Default: no client certificate required.
func WithClientCertificate(names ...string) Option {
	names = append([]string(nil), names...)
	return func(o *options) { o.auth.cert, o.auth.certNames = true, names }
}

// WithoutAuthentication serves every caller that can reach the service:
// the explicit choice for in-process tests and examples, or a server that
// listens where only the chaos runner can connect. Given with
// [WithBearerToken] or [WithClientCertificate], it makes [NewServer] and
// [Register] return an error: the two cannot both hold.
//
// Default: off; callers must authenticate.
func WithoutAuthentication() Option {
	return func(o *options) { o.auth.none = true }
}

// authOptions are the authentication options as given.
type authOptions struct {
	token     string
	tokenSet  bool     // WithBearerToken was given
	cert      bool     // WithClientCertificate was given
	certNames []string // its names; none: any verified certificate
	none      bool     // WithoutAuthentication was given
}

// authenticator checks the credentials of each call, before the method
// does anything.
type authenticator struct {
	// refuse, when set, is the answer to every call.
	refuse error
	// tokenSum is the SHA-256 sum of the bearer token; nil when no token
	// is required.
	tokenSum *[sha256.Size]byte
	// cert requires a verified client certificate, naming one of names
	// when there are names.
	cert  bool
	names []string
}

// errNoAuthentication answers every call of a server built without any
// authentication option.
var errNoAuthentication = status.Error(codes.Unauthenticated,
	"admin: the FaultAdmin service has no authentication configured and refuses every call;"+
		" the server must be built with admin.WithBearerToken, admin.WithClientCertificate or admin.WithoutAuthentication")

// newAuthenticator checks the authentication options. Its errors name the
// option at fault and never hold the token.
func newAuthenticator(o authOptions) (*authenticator, error) {
	if o.none && (o.tokenSet || o.cert) {
		var with []string
		if o.tokenSet {
			with = append(with, "WithBearerToken")
		}
		if o.cert {
			with = append(with, "WithClientCertificate")
		}
		return nil, fmt.Errorf("admin: WithoutAuthentication together with %s: give one or the other", strings.Join(with, " and "))
	}
	if o.none {
		return &authenticator{}, nil
	}
	if !o.tokenSet && !o.cert {
		return &authenticator{refuse: errNoAuthentication}, nil
	}
	a := &authenticator{cert: o.cert}
	if o.tokenSet {
		if err := checkToken(o.token); err != nil {
			return nil, fmt.Errorf("admin: WithBearerToken: %w", err)
		}
		sum := sha256.Sum256([]byte(o.token))
		a.tokenSum = &sum
	}
	for i, n := range o.certNames {
		if n == "" {
			return nil, fmt.Errorf("admin: WithClientCertificate: name %d of %d is empty", i+1, len(o.certNames))
		}
	}
	a.names = o.certNames
	return a, nil
}

// checkToken reports why token cannot be a bearer token, without quoting
// it.
func checkToken(token string) error {
	if token == "" {
		return errors.New("empty token")
	}
	if len(token) > MaxTokenLen {
		return fmt.Errorf("the token is %d bytes long, more than %d", len(token), MaxTokenLen)
	}
	for i := range len(token) {
		if c := token[i]; c < 0x21 || c > 0x7e {
			return fmt.Errorf("byte %d of the token is not visible ASCII (0x21 to 0x7E)", i+1)
		}
	}
	return nil
}

// check returns nil when the caller of ctx may use the service, and the
// status error to answer otherwise. Every credential required must be
// valid (UNAUTHENTICATED otherwise) before the certificate's names are
// checked (PERMISSION_DENIED).
func (a *authenticator) check(ctx context.Context) error {
	if a.refuse != nil {
		return a.refuse
	}
	var leaf *x509.Certificate
	if a.cert {
		var err error
		if leaf, err = verifiedLeaf(ctx); err != nil {
			return err
		}
	}
	if a.tokenSum != nil {
		if err := a.checkBearer(ctx); err != nil {
			return err
		}
	}
	if leaf != nil && len(a.names) > 0 && !namesOneOf(leaf, a.names) {
		return status.Error(codes.PermissionDenied,
			"admin: the client certificate names none of the names allowed to use the FaultAdmin service")
	}
	return nil
}

// checkBearer checks the authorization metadata of ctx against the token.
func (a *authenticator) checkBearer(ctx context.Context) error {
	vals := metadata.ValueFromIncomingContext(ctx, authorizationKey)
	switch len(vals) {
	case 0:
		return status.Error(codes.Unauthenticated,
			`admin: the FaultAdmin service requires a bearer token: send the metadata "authorization: Bearer <token>"`)
	case 1:
	default:
		return status.Errorf(codes.Unauthenticated, "admin: %d authorization values; send one bearer token", len(vals))
	}
	scheme, token, _ := strings.Cut(vals[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return status.Error(codes.Unauthenticated, `admin: the authorization metadata is not "Bearer <token>"`)
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	if subtle.ConstantTimeCompare(sum[:], a.tokenSum[:]) != 1 {
		return status.Error(codes.Unauthenticated, "admin: wrong bearer token")
	}
	return nil
}

// verifiedLeaf returns the caller's client certificate, if the server
// verified it.
func verifiedLeaf(ctx context.Context) (*x509.Certificate, error) {
	p, _ := peer.FromContext(ctx)
	var chains [][]*x509.Certificate
	if p != nil {
		if ti, ok := p.AuthInfo.(credentials.TLSInfo); ok {
			chains = ti.State.VerifiedChains
		}
	}
	if len(chains) == 0 || len(chains[0]) == 0 {
		return nil, status.Error(codes.Unauthenticated,
			"admin: the FaultAdmin service requires a TLS client certificate verified by the server")
	}
	// Every verified chain starts with the peer's own certificate.
	return chains[0][0], nil
}

// namesOneOf reports whether the certificate names one of names.
func namesOneOf(leaf *x509.Certificate, names []string) bool {
	for _, want := range names {
		if strings.EqualFold(leaf.Subject.CommonName, want) {
			return true
		}
		for _, dns := range leaf.DNSNames {
			if strings.EqualFold(dns, want) {
				return true
			}
		}
	}
	return false
}

// BearerToken returns call credentials that send token in the metadata
// "authorization: Bearer TOKEN", for a server built with [WithBearerToken].
// Give them to grpc.WithPerRPCCredentials or, per call,
// grpc.PerRPCCredentials.
//
// They send the token with calls of the FaultAdmin service only, never with
// other calls on the same connection, so a connection shared with the
// service under test does not hand the token to it. They require transport
// security: grpc-go refuses them on a connection without it (grpc.NewClient
// fails with grpc.WithPerRPCCredentials; a call with grpc.PerRPCCredentials
// fails with UNAUTHENTICATED). For a plaintext connection on loopback or in
// process, use [InsecureBearerToken].
//
// A token that [WithBearerToken] would refuse fails every FaultAdmin call
// with UNAUTHENTICATED, and is never sent. The credentials print as
// "admin.BearerToken(REDACTED)", never with the token.
func BearerToken(token string) credentials.PerRPCCredentials {
	return newBearer(token, true)
}

// InsecureBearerToken is [BearerToken] without the need for transport
// security: it also sends the token over plaintext connections, where
// anyone who can read the traffic can read the token and then change the
// server's faults. Use it only where nobody else can read the traffic: over
// loopback (127.0.0.1, a Unix socket) or in process (bufconn), as the tests
// and examples do, or through a network you trust.
func InsecureBearerToken(token string) credentials.PerRPCCredentials {
	return newBearer(token, false)
}

// bearer is the PerRPCCredentials of BearerToken and InsecureBearerToken.
type bearer struct {
	md     map[string]string // the metadata to send; nil when err is set
	err    error             // why the token cannot be sent
	secure bool              // RequireTransportSecurity
}

func newBearer(token string, secure bool) *bearer {
	b := &bearer{secure: secure}
	if err := checkToken(token); err != nil {
		b.err = fmt.Errorf("admin: %s: %w", b.name(), err)
	} else {
		b.md = map[string]string{authorizationKey: "Bearer " + token}
	}
	return b
}

// servicePrefix starts the full method name of every FaultAdmin method.
var servicePrefix = "/" + adminpb.FaultAdmin_ServiceDesc.ServiceName + "/"

// GetRequestMetadata returns the authorization metadata for calls of the
// FaultAdmin service, and nothing for other calls or when grpc-go gave no
// request information.
func (b *bearer) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	ri, ok := credentials.RequestInfoFromContext(ctx)
	if !ok || !strings.HasPrefix(ri.Method, servicePrefix) {
		return nil, nil
	}
	if b.err != nil {
		return nil, b.err
	}
	// grpc-go copies the map; it is never changed.
	return b.md, nil
}

// RequireTransportSecurity reports whether the token may go only over a
// secure connection.
func (b *bearer) RequireTransportSecurity() bool { return b.secure }

func (b *bearer) name() string {
	if b.secure {
		return "BearerToken"
	}
	return "InsecureBearerToken"
}

// String keeps the token out of logs.
func (b *bearer) String() string { return "admin." + b.name() + "(REDACTED)" }

// GoString keeps the token out of %#v.
func (b *bearer) GoString() string { return b.String() }
