package wxsim

import (
	"bytes"
	"crypto/sha256"
	"hash/fnv"
	"image"
	"image/color"
	_ "image/gif" // decoded by imageSize
	"image/jpeg"
	_ "image/png" // decoded by imageSize
)

// Generated pictures: the QR image and default avatars. They only need to be valid
// JPEGs that differ per uuid / person; nobody scans them.

func qrImage(uuid string) []byte {
	sum := sha256.Sum256([]byte(uuid))
	const cells, cell = 16, 8
	img := image.NewGray(image.Rect(0, 0, cells*cell, cells*cell))
	for y := 0; y < cells; y++ {
		for x := 0; x < cells; x++ {
			bit := sum[(y*cells+x)/8%len(sum)] >> uint(x%8) & 1
			v := uint8(255)
			if bit == 1 {
				v = 0
			}
			for dy := 0; dy < cell; dy++ {
				for dx := 0; dx < cell; dx++ {
					img.SetGray(x*cell+dx, y*cell+dy, color.Gray{Y: v})
				}
			}
		}
	}
	return encodeJPEG(img)
}

func defaultAvatar(id string) []byte {
	h := fnv.New32a()
	_, _ = h.Write([]byte(id))
	v := h.Sum32()
	img := image.NewRGBA(image.Rect(0, 0, 32, 32))
	c := color.RGBA{R: uint8(v), G: uint8(v >> 8), B: uint8(v >> 16), A: 255}
	for y := 0; y < 32; y++ {
		for x := 0; x < 32; x++ {
			img.Set(x, y, c)
		}
	}
	return encodeJPEG(img)
}

func encodeJPEG(img image.Image) []byte {
	var buf bytes.Buffer
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}

// imageSize reads the dimensions of a picture, or gives the defaults.
func imageSize(data []byte, defW, defH int) (int, int) {
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width > 0 {
		return cfg.Width, cfg.Height
	}
	if defW == 0 {
		return 100, 100
	}
	return defW, defH
}
