package smlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// FunctionError is a rotation function's own failure, as Lambda reports it:
// errorType and errorMessage.
type FunctionError struct {
	Type, Message string
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// LambdaEndpoint returns an Invoker that calls a Lambda Runtime Interface
// Emulator at baseURL: POST baseURL/2015-03-31/functions/function/invocations
// with the event as the body. The emulator runs one function, so the
// function ARN is not part of the request. A function error (the
// X-Amz-Function-Error header, or a body with errorMessage) is a
// *FunctionError.
func LambdaEndpoint(baseURL string) Invoker {
	url := strings.TrimSuffix(baseURL, "/") + "/2015-03-31/functions/function/invocations"
	return InvokerFunc(func(ctx context.Context, functionARN string, ev events.SecretsManagerSecretRotationEvent) error {
		payload, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("invoke %s step %s: %w", functionARN, ev.Step, err)
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(payload))
		if err != nil {
			return fmt.Errorf("invoke %s step %s: %w", functionARN, ev.Step, err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("invoke %s step %s: %w", functionARN, ev.Step, err)
		}
		defer func() { _ = resp.Body.Close() }()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 6<<20)) // Lambda's 6 MB response limit
		if err != nil {
			return fmt.Errorf("invoke %s step %s: read answer: %w", functionARN, ev.Step, err)
		}
		if ferr := parseFunctionError(resp.StatusCode, resp.Header.Get("X-Amz-Function-Error"), body); ferr != nil {
			return fmt.Errorf("invoke %s step %s: %w", functionARN, ev.Step, ferr)
		}
		return nil
	})
}

// parseFunctionError reads a Lambda invoke answer and returns the error it
// carries, or nil for success: a non-200 status; the X-Amz-Function-Error
// header or a JSON body with errorMessage (a function error); the RIE's
// plain "Task timed out after N.00 seconds" (errorType Sandbox.Timedout,
// what Lambda reports for a timeout).
func parseFunctionError(status int, functionErrorHeader string, body []byte) error {
	var fe struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    string  `json:"errorType"`
	}
	isFE := json.Unmarshal(body, &fe) == nil && fe.ErrorMessage != nil
	switch {
	case functionErrorHeader != "" || isFE:
		e := &FunctionError{Type: fe.ErrorType, Message: string(body)}
		if fe.ErrorMessage != nil {
			e.Message = *fe.ErrorMessage
		}
		if e.Type == "" {
			e.Type = functionErrorHeader
		}
		return e
	case bytes.HasPrefix(body, []byte("Task timed out")):
		return &FunctionError{Type: "Sandbox.Timedout", Message: string(body)}
	case status != http.StatusOK:
		return fmt.Errorf("lambda answered HTTP %d: %s", status, truncate(body, 512))
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
