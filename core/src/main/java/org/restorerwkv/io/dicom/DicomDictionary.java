package org.restorerwkv.io.dicom;

import java.util.HashMap;
import java.util.Map;

/**
 * Value representations of the tags this project interprets or commonly copies, for implicit-VR
 * files (which do not say). Tags not listed are kept as raw bytes with VR "UN", which is how the
 * standard says unknown elements are re-encoded in explicit VR.
 */
final class DicomDictionary {

    private static final Map<Integer, String> VR = new HashMap<>();

    static {
        add("UL", 0x00020000);
        add("OB", 0x00020001);
        add("UI", 0x00020002, 0x00020003, 0x00020010, 0x00020012, 0x00080016, 0x00080018, 0x00081150, 0x00081155,
                0x0020000D, 0x0020000E, 0x00200052, 0x00080014);
        add("SH", 0x00020013, 0x00080050, 0x00081010, 0x00200010, 0x00181210, 0x00080100, 0x00080102, 0x00181250);
        add("AE", 0x00020016);
        add("CS", 0x00080005, 0x00080008, 0x00080060, 0x00080064, 0x00100040, 0x00180015, 0x00180020, 0x00180021,
                0x00180022, 0x00180023, 0x00185100, 0x00200020, 0x00280004, 0x00282110, 0x00282114, 0x00541001,
                0x00541002, 0x00180022);
        add("DA", 0x00080012, 0x00080020, 0x00080021, 0x00080022, 0x00080023, 0x00100030);
        add("TM", 0x00080013, 0x00080030, 0x00080031, 0x00080032, 0x00080033, 0x00181072);
        add("LO", 0x00080070, 0x00080080, 0x00081030, 0x0008103E, 0x00081040, 0x00081090, 0x00080104, 0x00100020,
                0x00181020, 0x00181030, 0x00201040, 0x00281054, 0x00281055);
        add("PN", 0x00080090, 0x00100010);
        add("ST", 0x00082111);
        add("AS", 0x00101010);
        add("DS", 0x00101020, 0x00101030, 0x00180050, 0x00180060, 0x00180080, 0x00180081, 0x00180083, 0x00180084,
                0x00180087, 0x00180088, 0x00181100, 0x00181110, 0x00181111, 0x00181120, 0x00181314, 0x00181074,
                0x00181075, 0x00200032, 0x00200037, 0x00201041, 0x00280030, 0x00281050, 0x00281051, 0x00281052,
                0x00281053, 0x00282112, 0x00541300, 0x00541321, 0x00541322, 0x3004000C, 0x3004000E);
        add("IS", 0x00180086, 0x00180091, 0x00181150, 0x00181151, 0x00181152, 0x00200011, 0x00200012, 0x00200013,
                0x00280008, 0x00280034, 0x00209057, 0x00209128);
        add("US", 0x00280002, 0x00280006, 0x00280010, 0x00280011, 0x00280100, 0x00280101, 0x00280102, 0x00280103,
                0x00280106, 0x00280107, 0x00280120, 0x00540081);
        add("AT", 0x00280009);
        add("LT", 0x00204000);
        add("UL", 0x00209157, 0x00209056);
        add("SQ", 0x52009229, 0x52009230, 0x00209111, 0x00209113, 0x00209116, 0x00289110, 0x00289145, 0x00209222,
                0x00089124, 0x00082112, 0x00089215, 0x0040A170,
                0x00081032, 0x00081111, 0x00081120, 0x00081140, 0x00082112, 0x00089215, 0x00283000, 0x00283010,
                0x00400275, 0x0040A730, 0x00540016, 0x00540022, 0x52009229, 0x52009230, 0x00082218, 0x00400260);
        add("OV", 0x7FE00001, 0x7FE00002);
        add("IS", 0x00081160);
        add("CS", 0x00089007, 0x00200060);
        add("OF", 0x7FE00008);
        add("OD", 0x7FE00009);
        add("OW", 0x7FE00010);
    }

    /** Keywords of the tags that messages name. */
    private static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(0x00280002, "SamplesPerPixel"), Map.entry(0x00280008, "NumberOfFrames"),
            Map.entry(0x00280010, "Rows"), Map.entry(0x00280011, "Columns"), Map.entry(0x00280030, "PixelSpacing"),
            Map.entry(0x00280100, "BitsAllocated"), Map.entry(0x00280101, "BitsStored"),
            Map.entry(0x00280102, "HighBit"), Map.entry(0x00280103, "PixelRepresentation"),
            Map.entry(0x00281052, "RescaleIntercept"), Map.entry(0x00281053, "RescaleSlope"),
            Map.entry(0x00200032, "ImagePositionPatient"), Map.entry(0x00200037, "ImageOrientationPatient"),
            Map.entry(0x00180050, "SliceThickness"), Map.entry(0x00180088, "SpacingBetweenSlices"),
            Map.entry(0x00200013, "InstanceNumber"), Map.entry(0x7FE00010, "PixelData"),
            Map.entry(0x00209157, "DimensionIndexValues"), Map.entry(0x00280004, "PhotometricInterpretation"));

    private DicomDictionary() {}

    /** "(gggg,eeee) Keyword" for messages, or just the tag when no keyword is listed. */
    static String describe(int tag) {
        String n = NAMES.get(tag);
        return DicomElement.tagString(tag) + (n == null ? "" : " " + n);
    }

    private static void add(String vr, int... tags) {
        for (int t : tags) {
            VR.put(t, vr);
        }
    }

    /** The VR for a tag in implicit-VR data; group lengths are UL; unknown tags are UN. */
    static String vr(int tag) {
        if ((tag & 0xffff) == 0) {
            return "UL";
        }
        return VR.getOrDefault(tag, "UN");
    }
}
