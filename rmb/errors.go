package rmb

import (
	"errors"
	"fmt"
)

// Code is an RMB error code, carried in Envelope.error.code. Relays and peers both produce them.
type Code uint32

// The error codes of the protocol (rmb/README.md, "Error codes").
const (
	CodeInvalidSignature   Code = 1  // the envelope's signature does not verify against the source twin's key
	CodeUnknownTwin        Code = 2  // a twin named by the envelope is not on the chain
	CodeExpired            Code = 3  // the envelope's timestamp + expiration is in the past
	CodeCannotDecrypt      Code = 4  // the cipher cannot be decrypted (wrong key, tampered, no e2e key)
	CodeWrongSource        Code = 5  // the source is not the sending connection's (twin, session)
	CodeTooLarge           Code = 6  // the envelope is larger than the relay accepts
	CodeRateLimited        Code = 7  // the source twin exceeded its rate limit
	CodeDestinationOffline Code = 8  // the destination cannot be reached and its queue is full, or fail-fast
	CodeUnknownCommand     Code = 9  // the destination serves no handler for the command
	CodeHandlerError       Code = 10 // the handler returned an error; the message is its text
)

var codeNames = map[Code]string{
	CodeInvalidSignature:   "invalid signature",
	CodeUnknownTwin:        "unknown twin",
	CodeExpired:            "expired",
	CodeCannotDecrypt:      "cannot decrypt",
	CodeWrongSource:        "wrong source",
	CodeTooLarge:           "envelope too large",
	CodeRateLimited:        "rate limited",
	CodeDestinationOffline: "destination offline",
	CodeUnknownCommand:     "unknown command",
	CodeHandlerError:       "handler error",
}

// String is the code's short name ("invalid signature").
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("code %d", uint32(c))
}

// Error is an error answer carried by an envelope (relay- or peer-generated).
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string {
	return fmt.Sprintf("rmb error %d (%s): %s", uint32(e.Code), e.Code, e.Message)
}

// Errorf builds an *Error.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of an *Error in err's chain, or 0.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

// CodeOfMessage is the message of an *Error in err's chain, or err's text.
func CodeOfMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
