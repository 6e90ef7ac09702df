package portal

import (
	"math"
	"strconv"
	"strings"

	"maunium.net/go/mautrix/event"

	"wxbridge/protoclient"
)

// Locations: the coordinates are WeChat's (Tencent Maps: GCJ-02 inside mainland
// China), passed on as they are; a WGS-84 map shows places in China a few hundred
// metres off.

// locationNotice is an m.location, or without coordinates a notice with what is known;
// a live location share says to follow it on the phone.
func locationNotice(loc *protoclient.Location) *event.MessageEventContent {
	switch {
	case loc.HasCoords && loc.Live:
		return locationContent(loc, "Live location")
	case loc.HasCoords:
		return locationContent(loc, "")
	case loc.Live:
		n := phoneNotice("Live location sharing started", "open WeChat on your phone to follow it")
		if loc.Title != "" {
			n.Body += " " + oneLine(loc.Title)
		}
		return n
	case loc.Label != "":
		// Without coordinates the label is still worth showing.
		return phoneNotice("Location: "+loc.Label, "")
	}
	return cannotShow(protoclient.MsgLocation, "it has no coordinates")
}

func validCoords(latS, lngS string) (lat, lng float64, ok bool) {
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(latS), 64)
	lng, err2 := strconv.ParseFloat(strings.TrimSpace(lngS), 64)
	if err1 != nil || err2 != nil || math.IsNaN(lat) || math.IsNaN(lng) ||
		math.Abs(lat) > 90 || math.Abs(lng) > 180 {
		return 0, 0, false
	}
	return lat, lng, true
}

// placeName is the name to show: the POI name, unless it is the "[位置]" placeholder
// phones put there, then the label (the address).
func placeName(loc *protoclient.Location) (name, address string) {
	poi := strings.TrimSpace(loc.PoiName)
	if strings.HasPrefix(poi, "[") && strings.HasSuffix(poi, "]") {
		poi = ""
	}
	label := strings.TrimSpace(loc.Label)
	switch {
	case poi != "" && label != "" && poi != label:
		return poi, label
	case poi != "":
		return poi, ""
	}
	return label, ""
}

func formatCoord(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// locationContent is an m.location; prefix labels special kinds ("Live location").
func locationContent(loc *protoclient.Location, prefix string) *event.MessageEventContent {
	name, address := placeName(loc)
	body := name
	if body == "" {
		body = "Location"
	}
	if address != "" {
		body += "\n" + address
	}
	if prefix != "" {
		body = prefix + ": " + body
	}
	return &event.MessageEventContent{
		MsgType:  event.MsgLocation,
		Body:     body,
		GeoURI:   "geo:" + formatCoord(loc.Lat) + "," + formatCoord(loc.Lng),
		Mentions: &event.Mentions{},
	}
}

// parseGeoURI reads "geo:lat,lng[,alt][;params]" (RFC 5870).
func parseGeoURI(s string) (lat, lng float64, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) < 4 || !strings.EqualFold(s[:4], "geo:") {
		return 0, 0, false
	}
	s = s[4:]
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, false
	}
	return validCoords(parts[0], parts[1])
}

// osmLink is a map link anyone can open.
func osmLink(lat, lng float64) string {
	la, lo := formatCoord(lat), formatCoord(lng)
	return "https://www.openstreetmap.org/?mlat=" + la + "&mlon=" + lo + "#map=16/" + la + "/" + lo
}
