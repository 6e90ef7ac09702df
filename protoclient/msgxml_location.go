package protoclient

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Locations (MsgType 1 with SubMsgType 48, §5.2, §9.11)

// locationMsg is the `<location>` of a location's OriContent. x is the latitude, y the
// longitude.
type locationMsg struct {
	X       xmlStr `xml:"x,attr"`
	Y       xmlStr `xml:"y,attr"`
	Scale   xmlInt `xml:"scale,attr"`
	Label   xmlStr `xml:"label,attr"`
	PoiName xmlStr `xml:"poiname,attr"`
	PoiID   xmlStr `xml:"poiid,attr"`
}

func parseCoord(s string, limit float64) (float64, bool) {
	v, err := strconv.ParseFloat(trim(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < -limit || v > limit {
		return 0, false
	}
	return v, true
}

// parseLocation parses the OriContent of a location message (plain or escaped XML). It
// fails unless there is a `<location>` with a latitude in [-90, 90] and a longitude in
// [-180, 180].
func parseLocation(oriContent string) (*Location, error) {
	var x struct {
		Location *locationMsg `xml:"location"`
	}
	if err := checkRoot(oriContent, &x, "location", "<msg><location>", func() bool { return x.Location != nil }); err != nil {
		return nil, err
	}
	l := x.Location
	lat, ok1 := parseCoord(string(l.X), 90)
	lng, ok2 := parseCoord(string(l.Y), 180)
	if !ok1 || !ok2 {
		return nil, fmt.Errorf("location: %w: bad coordinates x=%q y=%q", ErrMalformed, truncate(string(l.X), 30), truncate(string(l.Y), 30))
	}
	return &Location{HasCoords: true, Lat: lat, Lng: lng, Scale: int(l.Scale), Label: string(l.Label),
		PoiName: string(l.PoiName), PoiID: string(l.PoiID)}, nil
}

// locationText splits the Content of a MsgType 1 / SubMsgType 48 message,
// `<label>:<br/><map image path>` (group sender prefix already removed), into the decoded
// label and the map-image URL path. ok is false when the shape does not match.
func locationText(content string) (label, imagePath string, ok bool) {
	const sep = ":<br/>"
	i := strings.LastIndex(content, sep)
	if i < 0 {
		return "", "", false
	}
	// Only &amp; is undone: a full HTML unescape would read "&para=" or "&not=" in a
	// query string as the legacy entities ¶ and ¬.
	path := trim(strings.ReplaceAll(content[i+len(sep):], "&amp;", "&"))
	if !strings.HasPrefix(path, "/") && !strings.HasPrefix(path, "http") {
		return "", "", false
	}
	return DecodeText(content[:i]), path, true
}
