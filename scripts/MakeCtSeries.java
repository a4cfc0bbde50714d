import java.nio.file.Path;
import org.restorerwkv.io.Volume;
import org.restorerwkv.io.VolumeFormats;
import org.restorerwkv.io.dicom.Derivation;
import org.restorerwkv.io.dicom.DicomWriter;
import org.restorerwkv.io.dicom.UidStrategy;

/**
 * Makes an N-slice CT series from one CT slice (scripts/pacs-vs-file.sh): slice k is the source
 * + (k mod 10) HU, each at its own position with its own repeatable UIDs, in the source's study.
 * Prints the StudyInstanceUID. Run with the program's classpath:
 * java -cp "cli/target/restore-rwkv.jar:cli/target/lib/*" scripts/MakeCtSeries.java IN.dcm OUT_DIR N
 */
public class MakeCtSeries {
    public static void main(String[] args) throws Exception {
        Volume one = VolumeFormats.read(Path.of(args[0]));
        int slices = Integer.parseInt(args[2]);
        int n = one.sliceSize();
        float[] vox = new float[slices * n];
        for (int k = 0; k < slices; k++) {
            for (int i = 0; i < n; i++) {
                vox[k * n + i] = one.voxels()[i] + (k % 10);
            }
        }
        Volume v = new Volume(slices, one.height(), one.width(), vox, one.spacing(), one.affine(), null, one.dicom());
        DicomWriter.writeSeries(Path.of(args[1]), v,
                Derivation.converted().withUids(UidStrategy.hashed("pacs-vs-file CT " + slices)));
        System.out.println(one.dicom().get(0).string(0x0020000D));
    }
}
