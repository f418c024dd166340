package tpmkey

import (
	"fmt"
	"strings"

	"github.com/google/go-tpm/tpm2"
)

// Info describes a TPM for `lanyard tokens`.
type Info struct {
	// Device is where the TPM was reached (DescribeDevice).
	Device string
	// Manufacturer is the TPM vendor's four-letter code (e.g. "IFX",
	// "STM", "MSFT"; "IBM" for swtpm).
	Manufacturer string
	// Firmware is the firmware version as the vendor numbers it.
	Firmware string
	// SRK describes the key at the standard persistent storage handle
	// 0x81000001, or is "" when there is none.
	SRK string
}

// StandardSRK is the persistent handle provisioning tools store the
// storage root key at; key files made under it name it as their parent.
const StandardSRK tpm2.TPMHandle = 0x81000001

// Describe reads what a person needs to know about the TPM at device: that
// it answers, whose it is, and whether it has the standard storage key.
func Describe(device string) (Info, error) {
	t, err := Open(device)
	if err != nil {
		return Info{}, err
	}
	defer t.Close()
	info := Info{Device: DescribeDevice(device)}
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(tpm2.TPMPTManufacturer), PropertyCount: 8}.Execute(t)
	if err != nil {
		return Info{}, fmt.Errorf("%w: %s: %w", ErrNoTPM, info.Device, err)
	}
	props, err := rsp.CapabilityData.Data.TPMProperties()
	if err != nil {
		return Info{}, err
	}
	var fw [2]uint32
	for _, p := range props.TPMProperty {
		switch p.Property {
		case tpm2.TPMPTManufacturer:
			info.Manufacturer = strings.TrimRight(string([]byte{byte(p.Value >> 24), byte(p.Value >> 16), byte(p.Value >> 8), byte(p.Value)}), "\x00 ")
		case tpm2.TPMPTFirmwareVersion1:
			fw[0] = p.Value
		case tpm2.TPMPTFirmwareVersion2:
			fw[1] = p.Value
		}
	}
	info.Firmware = fmt.Sprintf("%d.%d.%d.%d", fw[0]>>16, fw[0]&0xffff, fw[1]>>16, fw[1]&0xffff)
	if rp, err := (tpm2.ReadPublic{ObjectHandle: StandardSRK}).Execute(t); err == nil {
		if pub, err := rp.OutPublic.Contents(); err == nil {
			switch pub.Type {
			case tpm2.TPMAlgECC:
				info.SRK = "ECC"
			case tpm2.TPMAlgRSA:
				info.SRK = "RSA"
			default:
				info.SRK = "present"
			}
		}
	}
	return info, nil
}
