package grpcerr

import (
	"context"

	gogogrpc "github.com/cosmos/gogoproto/grpc"
	"google.golang.org/grpc"
)

// Server wraps the node's gRPC server so that every unary method registered on it answers its
// errors through Status. grpc-gateway (REST) calls the same server, so REST gets the HTTP status of
// the code and the ErrorInfo in "details".
type Server struct {
	gogogrpc.Server
}

// RegisterService registers the service with every method's error mapped by Status.
func (s Server) RegisterService(sd *grpc.ServiceDesc, impl any) {
	desc := *sd
	desc.Methods = make([]grpc.MethodDesc, len(sd.Methods))
	for i, m := range sd.Methods {
		handler := m.Handler
		desc.Methods[i] = grpc.MethodDesc{
			MethodName: m.MethodName,
			Handler: func(srv any, ctx context.Context, dec func(any) error, in grpc.UnaryServerInterceptor) (any, error) {
				resp, err := handler(srv, ctx, dec, in)
				return resp, Status(err)
			},
		}
	}
	s.Server.RegisterService(&desc, impl)
}
