package kinesisapi

import (
	"encoding/binary"
	"hash/crc32"
)

// header is an event-stream header with a string value.
type header struct{ name, value string }

// appendFrame appends one AWS event-stream message: a prelude of total
// length, headers length and their CRC32, the headers, the payload, and a
// CRC32 of everything before it. All integers are big-endian; every header
// here is a string (type 7).
func appendFrame(b []byte, headers []header, payload []byte) []byte {
	start := len(b)
	b = appendFrameHead(b, headers, len(payload))
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:]))
}

// appendFrameHead appends a frame's prelude and headers, for a payload of
// n bytes; the payload and the message CRC follow.
func appendFrameHead(b []byte, headers []header, n int) []byte {
	hlen := 0
	for _, h := range headers {
		hlen += 1 + len(h.name) + 1 + 2 + len(h.value)
	}
	total := 12 + hlen + n + 4
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(total))
	b = binary.BigEndian.AppendUint32(b, uint32(hlen))
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b[start:start+8]))
	for _, h := range headers {
		b = append(b, byte(len(h.name)))
		b = append(b, h.name...)
		b = append(b, 7)
		b = binary.BigEndian.AppendUint16(b, uint16(len(h.value)))
		b = append(b, h.value...)
	}
	return b
}

// eventFrame is an event of the given type with a JSON payload.
func eventFrame(b []byte, eventType string, payload []byte) []byte {
	return appendFrame(b, eventHeaders(eventType), payload)
}

func eventHeaders(eventType string) []header {
	return []header{
		{":event-type", eventType},
		{":content-type", "application/json"},
		{":message-type", "event"},
	}
}

// subscribeToShardEventHeaders head every SubscribeToShardEvent frame.
var subscribeToShardEventHeaders = eventHeaders("SubscribeToShardEvent")

// exceptionFrame is a modeled exception of the event stream.
func exceptionFrame(b []byte, exceptionType string, payload []byte) []byte {
	return appendFrame(b, []header{
		{":exception-type", exceptionType},
		{":content-type", "application/json"},
		{":message-type", "exception"},
	}, payload)
}

// errorFrame is an unmodeled error of the event stream.
func errorFrame(b []byte, code, message string) []byte {
	return appendFrame(b, []header{
		{":error-code", code},
		{":error-message", message},
		{":message-type", "error"},
	}, nil)
}
